package profiler

import (
	"context"
	"regexp"
	"testing"
	"time"

	"github.com/linkprof/linkprof/trace"
)

// --pid-of's engine names match the command lines and process titles of
// the engines' servers and workers, and not what merely mentions them.
func TestEngineNamesMatchEngineProcesses(t *testing.T) {
	for _, c := range []struct {
		engine, cmdline string
		want            bool
	}{
		{"vllm", "/usr/bin/python3 /usr/local/bin/vllm serve meta-llama/Llama-3.1-8B --tensor-parallel-size 2", true},
		{"vllm", "python3 -m vllm.entrypoints.openai.api_server --model m", true},
		{"vllm", "VLLM::Worker_TP1", true},
		{"vllm", "VLLM::EngineCore", true},
		{"vllm", "tail -f /var/log/vllm.log", false},
		{"vllm", "pgrep -f vllm", false},
		{"vllm", "python3 bench_vllm_serve.py", false},
		{"sglang", "python3 -m sglang.launch_server --model-path m --tp 2", true},
		{"sglang", "sglang::scheduler_TP0", true},
		{"sglang", "/usr/local/bin/sglang serve --model-path m", true},
		{"sglang", "vim sglang_notes.txt", false},
		{"sglang", "VLLM::Worker_TP0", false},
		{"vllm|sglang", "VLLM::Worker_TP0", true},
		{"vllm|sglang", "sglang::scheduler_TP0", true},
		{"vllm|sglang", "tail -f vllm.log sglang.log", false},
	} {
		re, err := CompilePidOf(c.engine)
		if err != nil {
			t.Fatal(err)
		}
		if got := re.MatchString(c.cmdline); got != c.want {
			t.Errorf("--pid-of %s on %q: %v, want %v", c.engine, c.cmdline, got, c.want)
		}
	}
	if re, _ := CompilePidOf("vllm serve"); !re.MatchString("vllm serve x") || re.String() != "vllm serve" {
		t.Errorf("a pattern that is no engine's name is a regular expression: %q", re)
	}
}

// Watching (a recorder left on a node): nothing matches at the start, a
// matching process that starts later is recorded from then on, its exit
// does not end the recording, and the next one is recorded too.
func TestWatchRecordsProcessesAsTheyStart(t *testing.T) {
	requirePrivileges(t)
	marker := "watch-marker-" + t.Name()
	cfg := testConfig(t)
	cfg.PidOf, cfg.Watch = regexp.QuoteMeta(marker), true
	ready, attached := make(chan struct{}), make(chan uint32, 8)
	cfg.Ready = func() { close(ready) }
	cfg.OnLibrary = func(l trace.Library) {
		if l.Role == "nccl" {
			attached <- l.Pid
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	type result struct {
		sum *Summary
		err error
	}
	done := make(chan result, 1)
	go func() {
		sum, err := Record(ctx, cfg)
		done <- result{sum, err}
	}()
	select {
	case <-ready:
	case r := <-done:
		t.Fatalf("recording with nothing to match yet ended: %v", r.err)
	}
	var want []string
	// Two programs with NCCL in different files, so that each is a new
	// library to attach to (OnLibrary says when).
	for _, bin := range []string{progs.Driver, progs.DriverStatic} {
		cmd, truth, gate := startDriver(t, bin, nil, "all", marker)
		waitAttached(t, attached, uint32(cmd.Process.Pid))
		openGate(gate)()
		if err := cmd.Wait(); err != nil {
			t.Fatalf("driver: %v", err)
		}
		want = append(want, readTruth(t, truth)...)
	}
	time.Sleep(200 * time.Millisecond) // the pump's poll, a few times over
	cancel()
	r := <-done
	if r.err != nil || r.sum.Reason != "signal" {
		t.Fatalf("stopped by %v (%v), want signal: watching outlives its targets", r.sum, r.err)
	}
	tr, err := trace.Load(cfg.Dir)
	if err != nil {
		t.Fatal(err)
	}
	diffLines(t, describeAll(tr.Events), want)
}

func waitAttached(t *testing.T, attached <-chan uint32, pid uint32) {
	t.Helper()
	timeout := time.After(20 * time.Second)
	for {
		select {
		case p := <-attached:
			if p == pid {
				return
			}
		case <-timeout:
			t.Fatalf("pid %d was never attached", pid)
		}
	}
}
