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
	"testing"
	"time"

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
	default:
		os.Exit(m.Run())
	}
}

// fakeServer answers /health with 503 twice, then 200, streams completions
// and writes "stopped" to its log when SIGINT arrives.
func fakeServer(port string) {
	var polls atomic.Int32
	mux := http.NewServeMux()
	mux.HandleFunc("/health", func(w http.ResponseWriter, r *http.Request) {
		if polls.Add(1) <= 2 {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	})
	mux.HandleFunc("/v1/completions", func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(5 * time.Millisecond)
		fmt.Fprint(w, "data: {\"choices\":[{\"text\":\"a\"}]}\n\ndata: {\"choices\":[{\"text\":\"b\"}]}\n\ndata: [DONE]\n\n")
	})
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt)
	go func() {
		<-sig
		fmt.Println("fake server: stopped by SIGINT, env", os.Getenv("NCCL_DEBUG"))
		os.Exit(0)
	}()
	fmt.Println("fake server: listening")
	if err := http.ListenAndServe("127.0.0.1:"+port, mux); err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
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
