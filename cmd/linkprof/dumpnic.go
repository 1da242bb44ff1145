package main

import "github.com/linkprof/linkprof/trace"

// dumpedNICSample is one network device read as scripts see it (dump
// --nic-samples): a failed read has ok false and no counters.
type dumpedNICSample struct {
	NIC          uint32  `json:"nic"`
	Round        uint64  `json:"round"`
	OK           bool    `json:"ok"`
	Wrapped      bool    `json:"wrapped,omitempty"`
	MonoBeforeNs int64   `json:"mono_before_ns"`
	MonoAfterNs  int64   `json:"mono_after_ns"`
	TxBytes      *uint64 `json:"tx_bytes,omitempty"`
	RxBytes      *uint64 `json:"rx_bytes,omitempty"`
}

func dumpedNICSampleOf(s trace.NICSample) dumpedNICSample {
	d := dumpedNICSample{NIC: s.NIC, Round: s.Round, OK: s.OK(), Wrapped: s.Flags&trace.SampleWrapped != 0,
		MonoBeforeNs: s.MonoBeforeNs, MonoAfterNs: s.MonoAfterNs}
	if d.OK {
		d.TxBytes, d.RxBytes = &s.TxBytes, &s.RxBytes
	}
	return d
}
