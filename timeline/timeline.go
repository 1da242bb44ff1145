// Package timeline writes a Chrome trace-event JSON file (opens in
// ui.perfetto.dev and chrome://tracing): per rank a host track with its
// calls as instant events and lanes of modelled GPU execution, NVLink
// TX/RX counter tracks per GPU, and burst markers; with NICs sampled, a
// network track (net.go). Complete events on one
// track nest or are disjoint, as Perfetto requires (it drops a slice that
// starts inside another and ends after it). It streams: what it holds is
// one end time per lane, not per event.
package timeline

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strconv"

	"github.com/linkprof/linkprof/correlate"
	"github.com/linkprof/linkprof/graphs"
	"github.com/linkprof/linkprof/trace"
)

// DefaultMaxEvents bounds the file (about 190 bytes an event: 370 MB); a
// longer recording keeps its first events and says how many it dropped.
const DefaultMaxEvents = 2_000_000

// counterStepGBps is the change in a link rate worth a counter point:
// a GPU sampled at 1 kHz would otherwise spend the event budget on idle
// milliseconds.
const counterStepGBps = 0.5

// Thread ids inside a rank's track: the host, then GPU lanes from
// tidGPU up.
const (
	tidHost = 1
	tidGPU  = 2
)

// maxLanes bounds the GPU lanes of one rank; a slice that fits none of
// them (more overlapping at once) is dropped and counted.
const maxLanes = 64

// gpuPidBase keeps GPU tracks apart from process ids (a merged trace's
// pids use all 32 bits: trace/host.go).
const gpuPidBase = 1 << 32

// Event is one Chrome trace event.
type Event struct {
	Name string         `json:"name"`
	Cat  string         `json:"cat,omitempty"`
	Ph   string         `json:"ph"`
	Ts   float64        `json:"ts"` // microseconds from the recording's start
	Dur  *float64       `json:"dur,omitempty"`
	Pid  uint64         `json:"pid"`
	Tid  uint64         `json:"tid"`
	S    string         `json:"s,omitempty"`
	Args map[string]any `json:"args,omitempty"`
}

// File is the whole JSON document, as read back.
type File struct {
	TraceEvents     []Event        `json:"traceEvents"`
	DisplayTimeUnit string         `json:"displayTimeUnit"`
	Metadata        map[string]any `json:"metadata"`
}

// Writer is a correlate.Sink that writes the timeline as the analysis runs.
type Writer struct {
	w        *bufio.Writer
	originNs int64
	start    trace.Start // a merged trace's hosts name the tracks
	max      int
	n        int // events written
	data     int // of them, not metadata
	dropped  int
	named    map[uint64]bool
	rates    map[int]*[4]float64 // last counter values per GPU: tx, rx, unattributed tx, rx
	lanes    map[uint64][]int64  // per process, the end of each GPU lane's last slice
	overlap  int                 // GPU slices no lane could take
	err      error
}

// NewWriter starts a timeline on w. Times are shown relative to the
// recording's start on the monotonic clock, which the analysis hands the
// writer (Start) before any data.
func NewWriter(w io.Writer, maxEvents int) *Writer {
	if maxEvents <= 0 {
		maxEvents = DefaultMaxEvents
	}
	tw := &Writer{w: bufio.NewWriterSize(w, 1<<20), max: maxEvents,
		named: map[uint64]bool{}, rates: map[int]*[4]float64{}, lanes: map[uint64][]int64{}}
	_, tw.err = tw.w.WriteString(`{"displayTimeUnit":"ns","traceEvents":[`)
	return tw
}

func (w *Writer) us(ns int64) float64 { return float64(ns-w.originNs) / 1e3 }

// Start implements correlate.StartSink: the time origin.
func (w *Writer) Start(s trace.Start) { w.originNs, w.start = s.Clock.MonoNs, s }

func (w *Writer) put(e *Event) {
	if w.err != nil {
		return
	}
	if e.Ph != "M" {
		if w.data >= w.max {
			w.dropped++
			return
		}
		w.data++
	}
	b, err := json.Marshal(e)
	if err != nil {
		w.err = fmt.Errorf("encoding timeline event: %w", err)
		return
	}
	if w.n > 0 {
		w.w.WriteByte(',')
	}
	w.n++
	if _, err := w.w.Write(b); err != nil {
		w.err = fmt.Errorf("writing timeline: %w", err)
	}
}

func (w *Writer) name(pid, tid uint64, process, thread string, sort int) {
	if !w.named[pid] {
		w.named[pid] = true
		w.put(&Event{Name: "process_name", Ph: "M", Pid: pid, Args: map[string]any{"name": process}})
		w.put(&Event{Name: "process_sort_index", Ph: "M", Pid: pid, Args: map[string]any{"sort_index": sort}})
	}
	key := pid<<8 | tid | 1<<62
	if !w.named[key] {
		w.named[key] = true
		w.put(&Event{Name: "thread_name", Ph: "M", Pid: pid, Tid: tid, Args: map[string]any{"name": thread}})
		w.put(&Event{Name: "thread_sort_index", Ph: "M", Pid: pid, Tid: tid, Args: map[string]any{"sort_index": tid}})
	}
}

// lane picks the first GPU lane of a process free at startNs (its last
// slice ended by then) for a slice ending at endNs: greedy interval
// partitioning, so slices of one lane never overlap. It returns -1 when
// all maxLanes are busy.
func (w *Writer) lane(pid uint64, startNs, endNs int64) int {
	ends := w.lanes[pid]
	for i, e := range ends {
		if e <= startNs {
			ends[i] = endNs
			return i
		}
	}
	if len(ends) == maxLanes {
		return -1
	}
	w.lanes[pid] = append(ends, endNs)
	return len(ends)
}

func laneName(i int) string {
	if i == 0 {
		return "GPU (modelled)"
	}
	return "GPU (modelled) " + strconv.Itoa(i+1)
}

// Call implements correlate.Sink: the host call as an instant event on
// the rank's host thread, the modelled GPU execution as a slice on a GPU
// lane. Modelled executions overlap (grouped calls, several streams, a
// call queued before the previous one finished), so each goes to the
// first lane free at its start. A graph replay has no host call (its
// launch is on the host thread); a capture-time call is a host instant of
// category graph-capture and never runs.
func (w *Writer) Call(c *correlate.Call) {
	pid := uint64(c.Pid)
	proc := w.procName(c.Rank, c.Pid)
	name := c.Kind.Op()
	if c.Phase != graphs.Replay {
		w.name(pid, tidHost, proc, hostTrack, c.Rank)
		args := map[string]any{"count": c.Count, "dtype": c.DataType.String(), "payload_bytes": c.Payload,
			"comm": fmt.Sprintf("%#x", c.Comm), "stream": fmt.Sprintf("%#x", c.Stream)}
		cat := "host"
		if c.Phase == graphs.Capture {
			cat, name = c.Phase.String(), name+" (captured)"
		}
		w.put(&Event{Name: name, Cat: cat, Ph: "i", S: "t", Ts: w.us(c.EnqueueNs), Pid: pid, Tid: tidHost, Args: args})
	}
	if c.EndNs <= c.StartNs || c.StartNs == 0 {
		return
	}
	lane := w.lane(pid, c.StartNs, c.EndNs)
	if lane < 0 {
		w.overlap++
		return
	}
	tid := uint64(tidGPU + lane)
	w.name(pid, tid, proc, laneName(lane), c.Rank)
	d := float64(c.EndNs-c.StartNs) / 1e3
	args := map[string]any{"nvlink_tx_bytes": int64(c.TxBytes), "nvlink_rx_bytes": int64(c.RxBytes),
		"enqueue_lag_us": float64(c.StartNs-c.LaunchNs) / 1e3, "protocol": c.Protocol.String()}
	if c.Phase == graphs.Replay {
		args["phase"], args["graph"], args["launch"] = c.Phase.String(), c.Graph, c.Launch
		args["count"], args["dtype"], args["payload_bytes"] = c.Count, c.DataType.String(), c.Payload
	}
	w.put(&Event{Name: name, Cat: "gpu", Ph: "X", Ts: w.us(c.StartNs), Dur: &d, Pid: pid, Tid: tid, Args: args})
}

// GraphLaunch implements correlate.LaunchSink: the launch as an instant
// event on the host thread, naming the graph whose collectives then run
// on the GPU lanes.
func (w *Writer) GraphLaunch(l *correlate.GraphLaunch) {
	pid := uint64(l.Pid)
	w.name(pid, tidHost, w.procName(l.Rank, l.Pid), hostTrack, l.Rank)
	w.put(&Event{Name: "graph " + strconv.Itoa(l.Graph) + " launch", Cat: "graph-launch", Ph: "i", S: "t", Ts: w.us(l.TsNs),
		Pid: pid, Tid: tidHost, Args: map[string]any{"graph": l.Graph, "launch": l.Launch, "collectives": l.Collectives,
			"exec": fmt.Sprintf("%#x", l.Exec), "stream": fmt.Sprintf("%#x", l.Stream)}})
}

// Arrival implements correlate.ArrivalSink: on the host track of the rank
// that entered a matched collective last, an instant event "last: OP"
// (category arrival) with how long the first rank waited for it and who
// waited.
func (w *Writer) Arrival(a *correlate.Arrival) {
	r := &a.Ranks[a.Last]
	pid := uint64(r.Pid)
	w.name(pid, tidHost, w.procName(r.Rank, r.Pid), hostTrack, r.Rank)
	waited := make([]int, 0, len(a.Ranks)-1)
	for i := range a.Ranks {
		if i != a.Last {
			waited = append(waited, a.Ranks[i].Rank)
		}
	}
	w.put(&Event{Name: "last: " + r.Kind.Op(), Cat: "arrival", Ph: "i", S: "t", Ts: w.us(r.EnqueueNs), Pid: pid, Tid: tidHost,
		Args: map[string]any{"comm": a.Comm, "seq": a.Seq, "skew_us": float64(a.SkewNs()) / 1e3, "waited": waited}})
}

// hostTrack names a rank's host thread.
const hostTrack = "host: NCCL calls, graph launches"

// procName names a rank's track; in a merged trace by its host and its
// pid there.
func (w *Writer) procName(rank int, pid uint32) string {
	if h := w.start.HostOf(pid); h != nil {
		_, local := trace.SplitPid(pid)
		return fmt.Sprintf("rank %s (%s pid %d)", rankStr(rank), h.Name, local)
	}
	return fmt.Sprintf("rank %s (pid %d)", rankStr(rank), pid)
}

// gpuName names a GPU's track; in a merged trace with its host and its
// index there.
func (w *Writer) gpuName(gpu int) string {
	if h := w.start.HostOfGPU(gpu); h != nil {
		return fmt.Sprintf("GPU %d (%s GPU %d) NVLink", gpu, h.Name, gpu-h.GPUBase)
	}
	return "GPU " + strconv.Itoa(gpu) + " NVLink"
}

// Interval implements correlate.Sink: link rates as counters, a point
// whenever a rate moved by counterStepGBps since the last one.
func (w *Writer) Interval(iv *correlate.Interval) {
	pid := uint64(gpuPidBase + iv.GPU)
	w.name(pid, 0, w.gpuName(iv.GPU), "bursts", 1000+iv.GPU)
	dt := float64(iv.EndNs-iv.StartNs) / 1e9
	now := [4]float64{iv.TxBytes / dt / 1e9, iv.RxBytes / dt / 1e9, iv.UnTx / dt / 1e9, iv.UnRx / dt / 1e9}
	last := w.rates[iv.GPU]
	if last == nil {
		last = &[4]float64{-1, -1, -1, -1}
		w.rates[iv.GPU] = last
	}
	if moved(last[0], now[0]) || moved(last[1], now[1]) {
		w.put(&Event{Name: "NVLink GB/s", Ph: "C", Ts: w.us(iv.StartNs), Pid: pid,
			Args: map[string]any{"tx": now[0], "rx": now[1]}})
		last[0], last[1] = now[0], now[1]
	}
	if moved(last[2], now[2]) || moved(last[3], now[3]) {
		w.put(&Event{Name: "unattributed GB/s", Ph: "C", Ts: w.us(iv.StartNs), Pid: pid,
			Args: map[string]any{"tx": now[2], "rx": now[3]}})
		last[2], last[3] = now[2], now[3]
	}
}

func moved(a, b float64) bool { return a < 0 || b-a > counterStepGBps || a-b > counterStepGBps }

// Burst implements correlate.Sink: a slice on the GPU track, named by
// what caused it.
func (w *Writer) Burst(b *correlate.Burst) {
	pid := uint64(gpuPidBase + b.GPU)
	d := float64(b.EndNs-b.StartNs) / 1e3
	w.put(&Event{Name: "burst: " + b.Label(), Cat: "burst", Ph: "X", Ts: w.us(b.StartNs), Dur: &d, Pid: pid, Tid: 0,
		Args: map[string]any{"tx_bytes": int64(b.TxBytes), "rx_bytes": int64(b.RxBytes),
			"unattributed_tx_bytes": int64(b.UnTx), "peak_GBps": b.PeakBps / 1e9}})
}

// Close ends the document; it does not close the underlying writer.
func (w *Writer) Close() error {
	if w.err != nil {
		return w.err
	}
	meta, _ := json.Marshal(map[string]any{"tool": "linkprof", "dropped_events": w.dropped, "max_events": w.max,
		"dropped_gpu_slices_over_lanes": w.overlap})
	fmt.Fprintf(w.w, `],"metadata":%s}`, meta)
	if err := w.w.Flush(); err != nil {
		return fmt.Errorf("writing timeline: %w", err)
	}
	return nil
}

// Dropped is how many events the size bound left out.
func (w *Writer) Dropped() int { return w.dropped }

func rankStr(r int) string {
	if r < 0 {
		return "?"
	}
	return strconv.Itoa(r)
}
