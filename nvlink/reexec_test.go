package nvlink_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/linkprof/linkprof/nvlink"
)

// readerEnv makes the test binary a per-process reader over a seqHost
// instead of running tests; its value is a folder where the reader leaves
// its pid, so the test can check that no reader outlives the sampler.
const readerEnv = "LINKPROF_TEST_NVML_READER"

func TestMain(m *testing.M) {
	if dir := os.Getenv(readerEnv); dir != "" {
		os.Exit(testReader(dir, os.Args[1:]))
	}
	os.Exit(m.Run())
}

// testReader is the child: it runs until the sampler kills it.
func testReader(dir string, args []string) int {
	a, err := nvlink.ParseReaderArgs(args)
	if err != nil {
		fmt.Fprintln(os.Stderr, "test reader:", err)
		return 2
	}
	pidFile := filepath.Join(dir, fmt.Sprintf("gpu%d.%d.pid", a.GPU, os.Getpid()))
	if err := os.WriteFile(pidFile, nil, 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "test reader:", err)
		return 1
	}
	a.Control = os.Stdin
	if err := nvlink.RunReader(context.Background(), seqHost(2), a, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "test reader:", err)
		return 1
	}
	return 0
}

// The sampler starts this test binary as the reader of each GPU, decodes
// exactly what they read, and leaves no reader behind once cancelled.
func TestPerProcessReaderProcesses(t *testing.T) {
	dir := t.TempDir()
	t.Setenv(readerEnv, dir)
	_, sink := runPerProcess(t, nvlink.Config{Hz: 2000, ReaderCmd: []string{os.Args[0]}}, 50)
	for gpu := range 2 {
		good, gaps := goodSamples(sink.samples, gpu)
		if gaps != 0 {
			t.Errorf("GPU %d: %d gaps", gpu, gaps)
		}
		checkSeq(t, gpu, good, seq(1, len(good)))
	}
	if len(sink.notes) != 0 {
		t.Errorf("notes: %+v", sink.notes)
	}
	pids, err := filepath.Glob(filepath.Join(dir, "*.pid"))
	if err != nil || len(pids) != 2 {
		t.Fatalf("reader pid files %v (%v), want one per GPU", pids, err)
	}
	for _, f := range pids {
		pid, _ := strconv.Atoi(strings.Split(filepath.Base(f), ".")[1])
		if err := syscall.Kill(pid, 0); err != syscall.ESRCH {
			t.Errorf("reader %s (pid %d) still there after the run: kill 0 gives %v", filepath.Base(f), pid, err)
		}
	}
}
