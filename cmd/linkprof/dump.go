package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/linkprof/linkprof/trace"
)

const dumpUsage = "dump DIR [--samples | --nic-samples]"

func init() {
	register(command{name: "dump", summary: "print a recording's events (or NVLink samples) as JSON lines (for scripts)", run: runDump})
}

// dumpedEvent is one event as scripts see it.
type dumpedEvent struct {
	TsNs       uint64 `json:"ts_ns"`
	Pid        uint32 `json:"pid"`
	Tid        uint32 `json:"tid"`
	Kind       string `json:"kind"`
	Op         string `json:"op,omitempty"`
	Count      uint64 `json:"count"`
	DataType   string `json:"dtype"`
	Bytes      uint64 `json:"payload_bytes"`
	RedOp      string `json:"redop"`
	Peer       int32  `json:"peer"`
	Comm       string `json:"comm"`   // handle, hex as everywhere else
	Stream     string `json:"stream"` // hex
	GroupDepth int32  `json:"group_depth"`
	Rank       int32  `json:"rank"`
	NRanks     int32  `json:"nranks"`
	Return     bool   `json:"return,omitempty"`
	// UniqueID is a communicator creation's ncclUniqueId hash (format
	// 1.2), hex; absent when unknown.
	UniqueID string `json:"unique_id,omitempty"`
}

// dumpedSample is one NVLink counter read as scripts see it: a failed read
// has ok false and no counters.
type dumpedSample struct {
	GPU          uint32     `json:"gpu"`
	OK           bool       `json:"ok"`
	Wrapped      bool       `json:"wrapped,omitempty"`
	MonoBeforeNs int64      `json:"mono_before_ns"`
	MonoAfterNs  int64      `json:"mono_after_ns"`
	WallUs       int64      `json:"nvml_wall_us"`
	Counters     *[4]uint64 `json:"kib,omitempty"` // data_tx, data_rx, raw_tx, raw_rx
}

func runDump(args []string) error {
	fs := newFlags("dump")
	samples := fs.Bool("samples", false, "print the NVLink counter samples instead of the events")
	nics := fs.Bool("nic-samples", false, "print the network device counter samples instead of the events")
	if err := parseFlags(fs, dumpUsage, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usagef("dump: give one recording folder")
	}
	if *samples && *nics {
		return usagef("dump: --samples and --nic-samples: give one")
	}
	f, err := trace.Open(fs.Arg(0))
	if err != nil {
		return err
	}
	defer f.Close()
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	enc := json.NewEncoder(out)
	for {
		rec, err := f.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		switch {
		case *samples && rec.Type == trace.RecSamples:
			err = rec.Samples(func(s trace.Sample) { enc.Encode(dumpedSampleOf(s)) })
		case *nics && rec.Type == trace.RecNICSamples:
			err = rec.NICSamples(func(s trace.NICSample) { enc.Encode(dumpedNICSampleOf(s)) })
		case !*samples && !*nics && rec.Type == trace.RecEvents:
			err = rec.Events(func(e trace.Event) { enc.Encode(dumped(e)) })
		}
		if err != nil {
			return err
		}
	}
}

func dumpedSampleOf(s trace.Sample) dumpedSample {
	d := dumpedSample{GPU: s.GPU, OK: s.OK(), Wrapped: s.Flags&trace.SampleWrapped != 0,
		MonoBeforeNs: s.MonoBeforeNs, MonoAfterNs: s.MonoAfterNs, WallUs: s.WallUs}
	if d.OK {
		d.Counters = &[4]uint64{s.DataTxKiB, s.DataRxKiB, s.RawTxKiB, s.RawRxKiB}
	}
	return d
}

func dumped(e trace.Event) dumpedEvent {
	d := dumpedEvent{TsNs: e.TsNs, Pid: e.Pid, Tid: e.Tid, Kind: e.Kind.String(), Count: e.Count,
		DataType: e.DataType.String(), Bytes: e.PayloadBytes(), RedOp: e.RedOp.String(), Peer: e.Peer,
		Comm: fmt.Sprintf("%#x", e.Comm), Stream: fmt.Sprintf("%#x", e.Stream), GroupDepth: e.GroupDepth, Rank: e.Rank, NRanks: e.NRanks,
		Return: e.Flags&trace.FlagReturn != 0}
	if e.Kind.IsCollective() {
		d.Op = e.Kind.Op()
	}
	if id := e.CommUniqueID(); id != 0 {
		d.UniqueID = fmt.Sprintf("%#x", id)
	}
	return d
}
