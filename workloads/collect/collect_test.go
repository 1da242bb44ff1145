package collect

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/linkprof/linkprof/internal/procstat"
	"github.com/linkprof/linkprof/workloads"
	"github.com/linkprof/linkprof/workloads/loadgen"
)

// The test binary doubles as the fake server and the fake recorder, chosen
// by FAKE_ROLE, so the orchestration runs real processes without GPUs.
func TestMain(m *testing.M) {
	switch os.Getenv("FAKE_ROLE") {
	case "server":
		fakeServer(os.Args[len(os.Args)-1])
	case "recorder":
		fakeRecorder()
	case "crash":
		fmt.Println("fake server: out of memory")
		os.Exit(3)
	case "stubborn", "badexit", "dies":
		fakeServer(os.Args[len(os.Args)-1])
	case "job", "jobfail", "joborphan":
		fakeJob()
	default:
		os.Exit(m.Run())
	}
}

// fakeServer answers /health with 503 twice, then 200, streams completions
// and writes "stopped" to its log when SIGINT or SIGTERM arrives. FAKE_ROLE
// stubborn ignores both, badexit exits 1 on them, dies exits on its own
// after two completions.
func fakeServer(port string) {
	var polls atomic.Int32
	mux := http.NewServeMux()
	mux.HandleFunc("/health", func(w http.ResponseWriter, r *http.Request) {
		if polls.Add(1) <= 2 {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	})
	var served atomic.Int32
	mux.HandleFunc("/v1/completions", func(w http.ResponseWriter, r *http.Request) {
		if served.Add(1) > 2 && os.Getenv("FAKE_ROLE") == "dies" {
			fmt.Println("fake server: GPU fell off the bus")
			os.Exit(3)
		}
		time.Sleep(5 * time.Millisecond)
		fmt.Fprint(w, "data: {\"choices\":[{\"text\":\"a\"}]}\n\ndata: {\"choices\":[{\"text\":\"b\"}]}\n\ndata: [DONE]\n\n")
	})
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	go func() {
		for s := range sig {
			switch os.Getenv("FAKE_ROLE") {
			case "stubborn": // CUDA-graph teardown that never returns
				fmt.Println("fake server: ignoring", s)
				continue
			case "badexit":
				fmt.Println("fake server: traceback on", s)
				os.Exit(1)
			}
			fmt.Println("fake server: stopped by SIGINT, env", os.Getenv("NCCL_DEBUG"))
			os.Exit(0)
		}
	}()
	fmt.Println("fake server: listening")
	if err := http.ListenAndServe("127.0.0.1:"+port, mux); err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
}

// fakeJob is the training stand-in: it waits at the gate, notes whether
// the recorder was there first, writes its info file (after --info) and
// exits (2 for jobfail).
func fakeJob() {
	gate := os.Getenv(GateEnv)
	for {
		if _, err := os.Stat(gate); err == nil {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	_, err := os.Stat(filepath.Join(os.Getenv("FAKE_DIR"), "trace.started"))
	fmt.Println("fake job: gate open, recorder attached:", err == nil)
	if os.Getenv("FAKE_ROLE") == "jobfail" {
		fmt.Println("fake job: NCCL error")
		os.Exit(2)
	}
	if os.Getenv("FAKE_ROLE") == "joborphan" { // a rank left running as torchrun exits
		rank := exec.Command("sleep", "60")
		rank.Start()
		os.WriteFile(filepath.Join(os.Getenv("FAKE_DIR"), "rank.pid"), []byte(strconv.Itoa(rank.Process.Pid)), 0o644)
	}
	info := `{"description": "train stand-in with random weights: 2 layers", "tokens_per_s": 1234.5}`
	os.WriteFile(os.Args[len(os.Args)-1], []byte(info), 0o644)
	os.Exit(0)
}

// fakeRecorder creates the folder as linkprof record does and marks when
// SIGINT stopped it.
func fakeRecorder() {
	dir := os.Getenv("FAKE_DIR")
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt)
	if os.Getenv("FAKE_FAIL") != "" {
		fmt.Println("fake recorder: cannot attach")
		os.Exit(1)
	}
	os.MkdirAll(dir, 0o755)
	os.WriteFile(filepath.Join(dir, "trace.started"), []byte(os.Getenv("FAKE_PID")), 0o644)
	os.WriteFile(os.Args[len(os.Args)-1], nil, 0o644) // --ready-file FILE
	<-sig
	os.WriteFile(filepath.Join(dir, "trace.stopped"), nil, 0o644)
	os.Exit(0)
}

func freePort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func fakeRecorderFunc(pid int, dir, ready string) (*exec.Cmd, error) {
	cmd := exec.Command(os.Args[0], "record", "-p", strconv.Itoa(pid), "--children", "-o", dir, "--ready-file", ready)
	cmd.Env = append(os.Environ(), "FAKE_ROLE=recorder", "FAKE_DIR="+dir, "FAKE_PID="+strconv.Itoa(pid))
	return cmd, nil
}

func testConfig(t *testing.T, role string) Config {
	card, _, err := workloads.Load("../testdata/good.yaml")
	if err != nil {
		t.Fatal(err)
	}
	port := freePort(t)
	t.Setenv("FAKE_ROLE", role)
	return Config{
		Card:         card,
		Dir:          filepath.Join(t.TempDir(), card.Name),
		Server:       ServerSpec{Framework: "standin", Python: "python3", Port: port},
		ServerArgv:   []string{os.Args[0], strconv.Itoa(port)},
		ReadyTimeout: 20 * time.Second,
		Settle:       100 * time.Millisecond,
		Grace:        5 * time.Second,
		Recorder:     fakeRecorderFunc,
		Probe: func(ctx context.Context, argv ...string) (string, error) {
			switch {
			case argv[0] == "nvidia-smi":
				return "NVIDIA H200, 580.159.04\nNVIDIA H200, 580.159.04\n", nil
			case strings.Contains(argv[len(argv)-1], "torch"):
				return "2.11.0+cu130\n2.28.9\n", nil
			}
			return "", fmt.Errorf("unexpected probe %v", argv)
		},
		Load:     loadgen.Options{URL: fmt.Sprintf("http://127.0.0.1:%d", port), Requests: 6, Batch: 2},
		LoadArgs: []string{"--requests", "6"},
		Version:  "test",
	}
}

func TestCollectEndToEnd(t *testing.T) {
	cfg := testConfig(t, "server")
	res, err := Collect(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if res.Report.Summary.Completed != 6 {
		t.Fatalf("load: %+v", res.Report.Summary)
	}
	for _, f := range []string{"trace.started", "trace.stopped", "server.log", "card.yaml", "load.json"} {
		if _, err := os.Stat(filepath.Join(cfg.Dir, f)); err != nil {
			t.Errorf("trace folder lacks %s: %v", f, err)
		}
	}
	log, _ := os.ReadFile(filepath.Join(cfg.Dir, "server.log"))
	if !strings.Contains(string(log), "fake server: listening") || !strings.Contains(string(log), "stopped by SIGINT, env INFO") {
		t.Errorf("server log:\n%s", log)
	}
	card, _, err := workloads.Load(filepath.Join(cfg.Dir, "card.yaml"))
	if err != nil {
		t.Fatalf("card.yaml does not parse back: %v", err)
	}
	col := card.Collection
	if col == nil || col.NCCLVersion != "2.28.9" || col.TorchVersion != "2.11.0+cu130" || len(col.GPUs) != 2 ||
		col.GPUs[1] != (workloads.GPUFact{Name: "NVIDIA H200", Driver: "580.159.04"}) || col.Load.Completed != 6 ||
		!slices.Equal(col.Recorder[1:4], []string{"record", "-p", col.Recorder[3]}) || col.Recorder[4] != "--children" ||
		col.Recorder[6] != cfg.Dir || col.ServerEnv["NCCL_DEBUG"] != "INFO" || col.Date == "" || card.Name != "local-test" {
		t.Fatalf("collection facts %+v", col)
	}
	// The recorder was pointed at the server's pid.
	pid, _ := os.ReadFile(filepath.Join(cfg.Dir, "trace.started"))
	if string(pid) != col.Recorder[3] {
		t.Errorf("recorder pid %s, argv %v", pid, col.Recorder)
	}
}

func TestCollectServerCrash(t *testing.T) {
	cfg := testConfig(t, "crash")
	_, err := Collect(context.Background(), cfg)
	if err == nil || !strings.Contains(err.Error(), "server exited (exit status 3) before it answered") {
		t.Fatalf("err = %v", err)
	}
	log, _ := os.ReadFile(filepath.Join(cfg.Dir, "server.log"))
	if !strings.Contains(string(log), "out of memory") {
		t.Errorf("server log %q", log)
	}
	if _, err := os.Stat(filepath.Join(cfg.Dir, "trace.started")); err == nil {
		t.Error("recorder started for a server that never came up")
	}
}

func TestCollectRecorderFailsToAttach(t *testing.T) {
	cfg := testConfig(t, "server")
	t.Setenv("FAKE_FAIL", "1")
	_, err := Collect(context.Background(), cfg)
	if err == nil || !strings.Contains(err.Error(), "recorder exited before it attached (exit status 1)") {
		t.Fatalf("err = %v", err)
	}
	log, _ := os.ReadFile(filepath.Join(cfg.Dir, "server.log"))
	if !strings.Contains(string(log), "stopped by SIGINT") {
		t.Errorf("server not stopped in order:\n%s", log)
	}
}

func TestCollectRefusesUsedFolder(t *testing.T) {
	cfg := testConfig(t, "server")
	os.MkdirAll(cfg.Dir, 0o755)
	os.WriteFile(filepath.Join(cfg.Dir, "x"), nil, 0o644)
	if _, err := Collect(context.Background(), cfg); err == nil || !strings.Contains(err.Error(), "already holds files") {
		t.Fatalf("err = %v", err)
	}
}

func TestCollectInterruptedStillWritesCard(t *testing.T) {
	cfg := testConfig(t, "server")
	cfg.Load.Requests, cfg.Load.Duration = 0, time.Hour
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		// Cancel once the load is running: the recorder has started.
		for {
			if _, err := os.Stat(filepath.Join(cfg.Dir, "trace.started")); err == nil {
				time.Sleep(300 * time.Millisecond)
				cancel()
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()
	res, err := Collect(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Report.Interrupted || res.Report.Summary.Completed == 0 {
		t.Fatalf("report %+v", res.Report.Summary)
	}
	for _, f := range []string{"trace.stopped", "card.yaml", "load.json"} {
		if _, err := os.Stat(filepath.Join(cfg.Dir, f)); err != nil {
			t.Errorf("interrupted collection lacks %s", f)
		}
	}
}

func TestServerCommands(t *testing.T) {
	card, _ := workloads.Lookup("qwen3-32b-tp_4-batch_4-sglang-group_11")
	f := false
	card.Flags.CUDAGraphs, card.Flags.CustomAllReduce = &f, &f
	spec := ServerSpec{Python: "python3", Vllm: "vllm", StandinScript: "scripts/standin/server.py", Host: "127.0.0.1", Port: 8123}
	cases := map[string]string{
		"sglang":  "python3 -m sglang.launch_server --model-path Qwen/Qwen3-32B --tp 4 --host 127.0.0.1 --port 8123 --disable-cuda-graph --disable-custom-all-reduce",
		"vllm":    "vllm serve Qwen/Qwen3-32B --tensor-parallel-size 4 --host 127.0.0.1 --port 8123 --enforce-eager --disable-custom-all-reduce",
		"standin": "python3 scripts/standin/server.py --tp 4 --host 127.0.0.1 --port 8123 --batch 4 --model Qwen/Qwen3-32B",
	}
	for fw, want := range cases {
		spec.Framework = fw
		argv, env, err := ServerCommand(card, spec)
		if err != nil || strings.Join(argv, " ") != want {
			t.Errorf("%s: %v %q\nwant %q", fw, err, strings.Join(argv, " "), want)
		}
		if fw == "standin" && env["NCCL_NVLS_ENABLE"] != "0" {
			t.Errorf("standin env %v", env)
		}
	}
	tr := true
	card.Flags.CUDAGraphs = &tr
	spec.Framework, spec.Extra = "standin", []string{"--layers", "2"}
	argv, _, _ := ServerCommand(card, spec)
	if !slices.Equal(argv[len(argv)-3:], []string{"--cuda-graphs", "--layers", "2"}) {
		t.Errorf("standin with graphs: %v", argv)
	}
}

// A server that ignores SIGINT and SIGTERM after a complete load is
// killed; the collection still succeeds, with a warning and a note.
func TestCollectStubbornServerIsNotAFailure(t *testing.T) {
	cfg := testConfig(t, "stubborn")
	cfg.Grace = 300 * time.Millisecond
	var log strings.Builder
	cfg.Log = &log
	start := time.Now()
	res, err := Collect(context.Background(), cfg)
	if err != nil || res.Report.Summary.Completed != 6 {
		t.Fatalf("err = %v, res %+v", err, res)
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("collect took %v", took)
	}
	card, _, err := workloads.Load(filepath.Join(cfg.Dir, "card.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if notes := strings.Join(card.Collection.Notes, "\n"); !strings.Contains(notes, "ignored SIGINT and SIGTERM") {
		t.Errorf("notes %q", notes)
	}
	if !strings.Contains(log.String(), "linkprof: warning: server ignored SIGINT and SIGTERM") {
		t.Errorf("log:\n%s", log.String())
	}
	srvLog, _ := os.ReadFile(filepath.Join(cfg.Dir, "server.log"))
	if !strings.Contains(string(srvLog), "ignoring interrupt") || !strings.Contains(string(srvLog), "ignoring terminated") {
		t.Errorf("server log:\n%s", srvLog)
	}
}

func TestCollectServerExitingBadlyOnStopIsNotAFailure(t *testing.T) {
	cfg := testConfig(t, "badexit")
	if _, err := Collect(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	card, _, _ := workloads.Load(filepath.Join(cfg.Dir, "card.yaml"))
	if notes := strings.Join(card.Collection.Notes, "\n"); !strings.Contains(notes, "server: exit status 1") {
		t.Errorf("notes %q", notes)
	}
}

func TestCollectServerDyingDuringLoadFails(t *testing.T) {
	cfg := testConfig(t, "dies")
	cfg.Load.Requests = 40
	_, err := Collect(context.Background(), cfg)
	if err == nil || !strings.Contains(err.Error(), "server exited during the load (exit status 3)") {
		t.Fatalf("err = %v", err)
	}
	if _, err := os.Stat(filepath.Join(cfg.Dir, "card.yaml")); err != nil {
		t.Errorf("no card.yaml after a failed load: %v", err)
	}
}

func TestCollectTPOverrideIsADeviation(t *testing.T) {
	cfg := testConfig(t, "server")
	cfg.TP = 1
	cfg.ServerArgv = nil
	cfg.Server.Python, cfg.Server.StandinScript = os.Args[0], strconv.Itoa(cfg.Server.Port)
	// The stand-in's argv: TESTBIN PORT --tp 1 ... --info FILE; the fake
	// server takes its port from the last argument: put it there.
	cfg.Server.Extra = []string{strconv.Itoa(cfg.Server.Port)}
	if _, err := Collect(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	card, _, err := workloads.Load(filepath.Join(cfg.Dir, "card.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	devs := strings.Join(card.Deviations, "\n")
	if card.TP != 1 || !strings.Contains(devs, "tp: 1 in place of the card's 2 (--tp 1)") ||
		!slices.Contains(card.Collection.Server, "--tp") || card.Collection.Server[slices.Index(card.Collection.Server, "--tp")+1] != "1" {
		t.Errorf("tp %d, deviations %q, server %v", card.TP, devs, card.Collection.Server)
	}
}

func trainingConfig(t *testing.T, role string) Config {
	cfg := testConfig(t, role)
	card, err := workloads.Lookup("llama3.1-8b-torchtitan-perlmutter")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Card, cfg.ServerArgv, cfg.TP = card, nil, 2
	cfg.JobArgv = []string{os.Args[0]}
	return cfg
}

func TestCollectTrainingJob(t *testing.T) {
	cfg := trainingConfig(t, "job")
	t.Setenv("FAKE_DIR", cfg.Dir)
	res, err := Collect(context.Background(), cfg)
	if err != nil || res.Interrupted || res.Report != nil {
		t.Fatalf("err = %v, res %+v", err, res)
	}
	log, _ := os.ReadFile(filepath.Join(cfg.Dir, "job.log"))
	if !strings.Contains(string(log), "gate open, recorder attached: true") {
		t.Errorf("job log:\n%s", log)
	}
	card, _, err := workloads.Load(filepath.Join(cfg.Dir, "card.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	tr := card.Collection.Training
	if v := card.Collection.FrameworkVersion; !strings.Contains(v, "train.py") {
		t.Errorf("framework version %q: the training stand-in ran, not the server", v)
	}
	devs := strings.Join(card.Deviations, "\n")
	if tr == nil || tr.Ranks != 2 || tr.Steps != DefaultSteps || tr.TokensPerS != 1234.5 || tr.Results != standinInfo ||
		!strings.Contains(devs, "framework: standin in place of the card's torchtitan") ||
		!strings.Contains(devs, "ranks: 2") || !strings.Contains(devs, "model: train stand-in with random weights") {
		t.Fatalf("training %+v, deviations %q", tr, devs)
	}
	if _, err := os.Stat(filepath.Join(cfg.Dir, standinInfo)); err != nil {
		t.Error(err)
	}
}

// A rank that outlives torchrun (stuck in teardown) does not outlive the
// collection.
func TestCollectTrainingJobLeavesNoRank(t *testing.T) {
	cfg := trainingConfig(t, "joborphan")
	t.Setenv("FAKE_DIR", cfg.Dir)
	cfg.Grace = 200 * time.Millisecond
	if _, err := Collect(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(cfg.Dir, "rank.pid"))
	if err != nil {
		t.Fatal(err)
	}
	pid, _ := strconv.Atoi(string(data))
	if st, ok := statOf(pid); ok && st.Live() {
		syscall.Kill(pid, syscall.SIGKILL)
		t.Fatalf("rank %d (state %c) outlived the collection", pid, st.State)
	}
}

func TestCollectTrainingJobFails(t *testing.T) {
	cfg := trainingConfig(t, "jobfail")
	t.Setenv("FAKE_DIR", cfg.Dir)
	_, err := Collect(context.Background(), cfg)
	if err == nil || !strings.Contains(err.Error(), "training job failed (exit status 2): see job.log") {
		t.Fatalf("err = %v", err)
	}
}

// statOf reads one process's /proc stat.
func statOf(pid int) (procstat.Stat, bool) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return procstat.Stat{}, false
	}
	return procstat.Parse(string(data))
}
