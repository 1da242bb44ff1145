package profiler

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"sync"
	"time"

	"github.com/linkprof/linkprof/internal/clock"
	"github.com/linkprof/linkprof/trace"
)

// Periods of the recorder's housekeeping.
const (
	tickEvery    = 20 * time.Millisecond // new children, exits, rescans
	flushEvery   = 500 * time.Millisecond
	rescanEvery  = 2 * time.Second // safety net behind the loader probe
	statusEvery  = time.Second
	clockEvery   = 10 * time.Second
	pipeStatusNL = 5 * time.Second // status period when stderr is not a terminal
)

// ErrNoTargets is returned when nothing is left to record.
var ErrNoTargets = errors.New("no target process")

// recorder is one recording session.
type recorder struct {
	cfg    Config
	w      *trace.Writer
	probes *Probes
	disc   *discoverer
	pump   *pump
	status *statusLine
	stalls *stallWatch    // nil: stall detection off
	replay *replay        // nil: one folder (no Config.Rotate)
	dir    string         // the folder being written
	pidOf  *regexp.Regexp // --pid-of, compiled once when watching

	ranOnStall bool

	nicsDone <-chan error // closed at once without a NIC sampler
	rescan   chan uint32
	findGPU  chan uint32   // processes that just created a communicator
	pumpDone chan struct{} // closed when the pump stops, by error or request
	launched *launched
	allFiles ncclFiles

	mu       sync.Mutex
	targets  map[uint32]bool // live targets, by pid
	seen     int             // targets ever seen
	stacks   map[int32]bool  // stack ids already written
	started  int64           // monotonic ns
	lastLost uint64          // last lost count written
	lostBase uint64          // lost count when the current folder began
}

// Record attaches to the configured targets and records until ctx is done,
// the duration passes, or the targets exit. The folder is complete (Stop
// record written, file closed) whenever Record returns a Summary.
func Record(ctx context.Context, cfg Config) (*Summary, error) {
	if err := preflight(cfg); err != nil {
		return nil, err
	}
	dir := firstDir(cfg, time.Now())
	if _, err := os.Stat(cfg.Dir); err == nil {
		pruneFor(cfg, "") // folders left by an earlier run count
	}
	w, err := trace.Create(dir, cfg.Force)
	if err != nil {
		return nil, err
	}
	r := &recorder{cfg: cfg, w: w, dir: dir, rescan: make(chan uint32, 1024), findGPU: make(chan uint32, 256), allFiles: ncclFiles{},
		targets: map[uint32]bool{}, stacks: map[int32]bool{}}
	r.startRotation() // before writeStart: its NIC records begin every folder
	if err := r.writeStart(); err != nil {
		w.Close()
		return nil, err
	}
	r.startStallWatch()
	r.startObserver()
	r.probes, err = LoadProbes(cfg.Probe)
	if err != nil {
		r.abort(err)
		return nil, err
	}
	slog.Debug("BPF probes loaded")
	sum, err := r.run(ctx)
	if err != nil && sum == nil {
		r.abort(err)
	}
	return sum, err
}

func (r *recorder) writeStart() error {
	start := r.startRecord()
	r.started = start.Clock.MonoNs
	if err := r.w.WriteJSON(trace.RecStart, start); err != nil {
		return err
	}
	if r.cfg.NICs != nil {
		if err := r.cfg.NICs.WriteHeader(r.w); err != nil {
			return err
		}
	}
	return r.w.Flush()
}

// preflight checks what can be checked before a folder is created.
func preflight(cfg Config) error {
	if err := checkPids(cfg.Pids); err != nil {
		return err
	}
	switch {
	case cfg.PidOf != "" && cfg.Watch:
		_, err := CompilePidOf(cfg.PidOf) // none need match yet
		return err
	case cfg.PidOf != "":
		_, err := PidsMatching(cfg.PidOf)
		return err
	}
	return nil
}

// abort undoes a recording that failed before it began: nothing was
// recorded, so no half-made folder is left behind.
func (r *recorder) abort(cause error) {
	if r.probes != nil {
		r.probes.Close()
	}
	slog.Debug("recording aborted", "err", cause)
	r.w.Close()
	os.Remove(filepath.Join(r.dir, trace.FileName))
	os.Remove(r.dir) // only if empty
	if r.dir != r.cfg.Dir {
		os.Remove(r.cfg.Dir) // a continuous recording's parent, only if empty
	}
}

func (r *recorder) run(ctx context.Context) (*Summary, error) {
	r.disc = newDiscoverer(r.probes, r.w, clock.Mono)
	r.disc.onLibrary = r.cfg.OnLibrary
	if g, ok := r.cfg.Sampler.(interface{ GPUOf(uint32) int }); ok {
		r.disc.gpuOf = g.GPUOf
	}
	if r.cfg.Children {
		if err := r.probes.FollowForks(); err != nil {
			return nil, err
		}
	}
	hooks := eventHooks{libraryLoad: r.requestScan, commCreated: r.writeComm, stack: r.writeStack}
	if r.stalls != nil {
		hooks.collective = r.stalls.event
	}
	if r.cfg.Observer != nil {
		hooks.observe = r.cfg.Observer.Event
	}
	pm, err := newPump(r.probes, r.w, hooks)
	if err != nil {
		return nil, err
	}
	r.pump = pm
	stopPump := make(chan struct{})
	pumpErr := make(chan error, 1)
	r.pumpDone = make(chan struct{})
	go func() {
		pumpErr <- pm.run(stopPump)
		close(r.pumpDone)
	}()

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// The network counters are read from before the targets run: a launched
	// command moves bytes as soon as it is released.
	r.nicsDone = r.startNICs(ctx)
	if err := r.addInitialTargets(); err != nil {
		cancel()
		<-r.nicsDone
		close(stopPump)
		<-pumpErr
		pm.close()
		return nil, err
	}
	samplerDone := r.startSampler(ctx)
	go r.scanLoop(ctx)
	if r.cfg.Ready != nil {
		r.cfg.Ready()
	}

	slog.Debug("recording")
	reason := r.loop(ctx)
	slog.Debug("stopping", "reason", reason)
	cancel()
	return r.finish(reason, stopPump, pumpErr, samplerDone)
}

// addInitialTargets launches the command or resolves -p, --pid-of, --all.
func (r *recorder) addInitialTargets() error {
	if len(r.cfg.Command) > 0 {
		// The command is held at its entry point until its libraries
		// are probed (startGated).
		l, err := launch(r.cfg, r.attachLaunched)
		if err != nil {
			return err
		}
		r.launched = l
		return nil
	}
	pids, err := r.initialPids()
	if err != nil {
		return err
	}
	for _, pid := range pids {
		r.addTarget(pid)
	}
	if r.cfg.Children {
		for _, pid := range Descendants(pids) {
			r.addTarget(pid)
		}
	}
	r.scanAll()
	return r.checkNCCLFound(pids)
}

func (r *recorder) initialPids() ([]uint32, error) {
	var pids []uint32
	if err := checkPids(r.cfg.Pids); err != nil {
		return nil, err
	}
	pids = append(pids, r.cfg.Pids...)
	if r.cfg.PidOf != "" {
		more, err := r.matching()
		if err != nil {
			return nil, err
		}
		pids = append(pids, more...)
	}
	if r.cfg.All {
		pids = append(pids, r.allFiles.PidsMappingNCCL()...)
	}
	if len(pids) == 0 && !r.cfg.All && !r.cfg.NoTargetsOK && !r.cfg.Watch {
		return nil, fmt.Errorf("%w: give -p PID, --pid-of NAME, --all or -- COMMAND", ErrNoTargets)
	}
	return pids, nil
}

// checkNCCLFound turns "nothing to probe" into an error when it can never
// change: the targets map no NCCL and no children will be followed.
func (r *recorder) checkNCCLFound(pids []uint32) error {
	if r.disc.ncclProcesses() > 0 || len(pids) == 0 {
		return nil
	}
	if !r.cfg.Children {
		return fmt.Errorf("no NCCL library mapped in pid %d: is it a GPU worker? try --children", pids[0])
	}
	slog.Warn("no NCCL library mapped yet; waiting for it to be loaded or for child processes", "pids", pids)
	return nil
}

func (r *recorder) attachLaunched(pid uint32) error {
	r.addTarget(pid)
	if _, err := r.disc.scan(pid); err != nil {
		return fmt.Errorf("scanning launched command: %w", err)
	}
	r.markLaunched(pid)
	return nil
}

func (r *recorder) markLaunched(pid uint32) {
	r.disc.mu.Lock()
	defer r.disc.mu.Unlock()
	if ps, ok := r.disc.procs[pid]; ok {
		ps.rec.Launched = true
		r.disc.writeProcess(ps)
	}
}

func (r *recorder) addTarget(pid uint32) {
	if err := r.probes.AddTarget(pid, r.cfg.Children); err != nil {
		slog.Warn("adding target", "pid", pid, "err", err)
		return
	}
	r.mu.Lock()
	if !r.targets[pid] {
		r.targets[pid] = true
		r.seen++
	}
	r.mu.Unlock()
}

// requestScan asks the scan loop to look at a process's maps again.
func (r *recorder) requestScan(pid uint32) {
	select {
	case r.rescan <- pid:
	default: // a full queue means scans are pending anyway
	}
}

func (r *recorder) scanLoop(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case pid := <-r.findGPU:
			r.disc.resolveGPU(pid) // an NVML call: kept off the event pump
		case pid := <-r.rescan:
			if _, err := r.disc.scan(pid); err != nil {
				slog.Debug("scanning process", "pid", pid, "err", err)
			}
		}
	}
}

func (r *recorder) scanAll() {
	for _, pid := range r.livePids() {
		if _, err := r.disc.scan(pid); err != nil {
			slog.Debug("scanning process", "pid", pid, "err", err)
		}
	}
}

func (r *recorder) livePids() []uint32 {
	r.mu.Lock()
	defer r.mu.Unlock()
	pids := make([]uint32, 0, len(r.targets))
	for pid := range r.targets {
		pids = append(pids, pid)
	}
	return pids
}

func (r *recorder) writeComm(e trace.Event) {
	if e.Flags&trace.FlagReturn == 0 {
		return
	}
	select {
	case r.findGPU <- e.Pid:
	default: // the periodic retry will find it
	}
	c := trace.Comm{Pid: e.Pid, Handle: e.Comm, Rank: e.Rank, NRanks: e.NRanks, Kind: e.Kind.String(), TsNs: e.TsNs,
		CUDADevice: e.CommDevice(), UniqueID: e.CommUniqueID()}
	if e.Kind == trace.CommSplit {
		c.Parent, c.Rank, c.NRanks = e.Aux, -1, -1
	}
	if err := r.w.WriteJSON(trace.RecComm, c); err != nil {
		slog.Debug("writing comm record", "err", err)
	}
}

func (r *recorder) writeStack(pid uint32, id int32) {
	if r.stacks[id] {
		return
	}
	r.stacks[id] = true
	addrs := make([]uint64, 127)
	if err := r.probes.StacksMap().Lookup(uint32(id), &addrs); err != nil {
		return
	}
	n := 0
	for n < len(addrs) && addrs[n] != 0 {
		n++
	}
	if err := r.w.WriteJSON(trace.RecStack, trace.Stack{ID: id, Pid: pid, Addrs: addrs[:n]}); err != nil {
		slog.Debug("writing stack record", "err", err)
	}
}
