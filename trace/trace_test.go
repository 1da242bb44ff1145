package trace

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func sampleEvent(i int) Event {
	return Event{TsNs: uint64(1000 + i), Pid: 42, Tid: 43, Kind: AllReduce, StackID: -1, Count: uint64(i),
		Comm: 0xabc, Stream: 0x7001, SendBuff: 1, RecvBuff: 2, DataType: 9, RedOp: 0, Peer: -1, Rank: -1, NRanks: -1}
}

func writeTrace(t *testing.T, dir string, events int) {
	t.Helper()
	w, err := Create(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.WriteJSON(RecStart, Start{Tool: "test", Clock: Clock{Source: "start", MonoNs: 1, WallNs: 2}}); err != nil {
		t.Fatal(err)
	}
	var raw []byte
	for i := 0; i < events; i++ {
		raw = AppendEvent(raw, sampleEvent(i))
	}
	if err := w.WriteEvents(raw); err != nil {
		t.Fatal(err)
	}
	w.WriteSamples(Sample{GPU: 1, Flags: SampleOK, MonoBeforeNs: 5, MonoAfterNs: 6, WallUs: 7, DataTxKiB: 8})
	w.WriteJSON(RecProcess, Process{Pid: 42, Comm: "python"})
	w.WriteJSON(RecProcess, Process{Pid: 42, Comm: "python", NCCLPath: "/lib/libnccl.so.2"})
	w.WriteJSON(RecLost, Lost{Count: 3})
	w.WriteJSON(RecStop, Stop{Reason: "duration", Events: uint64(events)})
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestRoundTrip(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "rec")
	writeTrace(t, dir, 3000) // more than one events frame
	tr, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(tr.Events) != 3000 {
		t.Fatalf("%d events, want 3000", len(tr.Events))
	}
	for i, e := range tr.Events {
		if !reflect.DeepEqual(e, sampleEvent(i)) {
			t.Fatalf("event %d = %+v, want %+v", i, e, sampleEvent(i))
		}
	}
	if tr.Lost != 3 || tr.Stop == nil || tr.Stop.Reason != "duration" || tr.Truncated {
		t.Errorf("lost %d stop %+v truncated %v", tr.Lost, tr.Stop, tr.Truncated)
	}
	if len(tr.Samples) != 1 || tr.Samples[0].DataTxKiB != 8 || !tr.Samples[0].OK() {
		t.Errorf("samples %+v", tr.Samples)
	}
	if len(tr.Processes) != 1 || tr.Processes[0].NCCLPath == "" {
		t.Errorf("processes %+v: want the last record per pid", tr.Processes)
	}
}

// A recorder killed mid-write leaves a prefix: readable up to the last
// whole record, flagged as truncated, never an error.
func TestTruncatedTraceReadsUpToLastRecord(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "rec")
	writeTrace(t, dir, 3000)
	path := filepath.Join(dir, FileName)
	full, _ := os.ReadFile(path)
	for _, cut := range []int{headerSize, headerSize + 5, len(full) / 2, len(full) - 1} {
		os.WriteFile(path, full[:cut], 0o644)
		tr, err := Load(dir)
		if err != nil {
			t.Fatalf("cut at %d: %v", cut, err)
		}
		if cut > headerSize && !tr.Truncated {
			t.Errorf("cut at %d: not flagged truncated", cut)
		}
		if tr.Stop != nil {
			t.Errorf("cut at %d: a stop record survived", cut)
		}
	}
}

func TestCorruptAndForeignInputAreRejected(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "rec")
	writeTrace(t, dir, 10)
	path := filepath.Join(dir, FileName)
	full, _ := os.ReadFile(path)

	flipped := bytes.Clone(full)
	flipped[headerSize+frameHeaderSize+3] ^= 0xff
	os.WriteFile(path, flipped, 0o644)
	if _, err := Load(dir); !errors.Is(err, ErrCorrupt) {
		t.Errorf("flipped byte: err %v, want ErrCorrupt", err)
	}
	newer := bytes.Clone(full)
	newer[8] = VersionMajor + 1
	os.WriteFile(path, newer, 0o644)
	if _, err := Load(dir); !errors.Is(err, ErrVersion) {
		t.Errorf("newer major: err %v, want ErrVersion", err)
	}
	os.WriteFile(path, []byte("#!/bin/sh\necho not a trace\n"), 0o644)
	if _, err := Load(dir); !errors.Is(err, ErrNotTrace) {
		t.Errorf("foreign file: err %v, want ErrNotTrace", err)
	}
	if _, err := Load(t.TempDir()); !errors.Is(err, ErrNoTrace) {
		t.Errorf("empty folder: err %v, want ErrNoTrace", err)
	}
}

func TestCreateRefusesUsedFolderAndLinks(t *testing.T) {
	base := t.TempDir()
	used := filepath.Join(base, "used")
	os.MkdirAll(used, 0o755)
	os.WriteFile(filepath.Join(used, "x"), nil, 0o644)
	if _, err := Create(used, false); !errors.Is(err, ErrFolderUsed) {
		t.Errorf("used folder: err %v", err)
	}
	link := filepath.Join(base, "link")
	os.Symlink(used, link)
	if _, err := Create(link, true); err == nil {
		t.Error("a symbolic link as output folder was accepted")
	}
	// A link planted where the trace goes is never followed, even with --force.
	planted := filepath.Join(base, "planted")
	os.MkdirAll(planted, 0o755)
	victim := filepath.Join(base, "victim")
	os.WriteFile(victim, []byte("keep"), 0o644)
	os.Symlink(victim, filepath.Join(planted, FileName))
	if _, err := Create(planted, false); err == nil {
		t.Error("non-empty folder accepted without force")
	}
	w, err := Create(planted, true)
	if err != nil {
		t.Fatal(err)
	}
	w.Close()
	if b, _ := os.ReadFile(victim); string(b) != "keep" {
		t.Error("writing the trace followed a planted symbolic link")
	}
}

// FuzzReader: any input is read or rejected with an error, never a panic.
func FuzzReader(f *testing.F) {
	dir := filepath.Join(f.TempDir(), "rec")
	w, _ := Create(dir, false)
	w.WriteJSON(RecStart, Start{Tool: "fuzz"})
	w.WriteEvents(AppendEvent(nil, sampleEvent(1)))
	w.WriteSamples(Sample{GPU: 1})
	w.WriteJSON(RecStop, Stop{Reason: "duration"})
	w.Close()
	seed, _ := os.ReadFile(filepath.Join(dir, FileName))
	f.Add(seed)
	f.Add(seed[:len(seed)/2])
	f.Add([]byte("LPTRACE\x00\x01\x00\x00\x00\x00\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := NewReader(bytes.NewReader(data), "fuzz")
		if err != nil {
			return
		}
		_, _ = ReadAll(r)
	})
}
