package trace

import (
	"path/filepath"
	"reflect"
	"testing"
)

// NIC records and samples come back as written, the samples batched in
// frames (more rounds than one frame holds) without a round split between
// the data around a metadata record.
func TestNICRoundTrip(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "rec")
	w, err := Create(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	nic := NIC{Index: 1, Name: "mlx5_0:1", Kind: NICKindIB, Netdev: "ib0", LinkLayer: "InfiniBand", SpeedBps: 50e9,
		TxCounter: "class/infiniband/mlx5_0/ports/1/counters/port_xmit_data", RxCounter: "class/infiniband/mlx5_0/ports/1/counters/port_rcv_data",
		UnitBytes: 4, CounterBits: 64, SelectedBy: "auto: IB port, active"}
	if err := w.WriteJSON(RecNIC, nic); err != nil {
		t.Fatal(err)
	}
	const rounds = 2000 // 2 x 48 bytes each: past one 64 KiB frame
	var want []NICSample
	for r := range uint64(rounds) {
		round := []NICSample{
			{NIC: 0, Flags: SampleOK, Round: r, MonoBeforeNs: int64(10 * r), MonoAfterNs: int64(10*r + 1), TxBytes: 4 * r, RxBytes: 8 * r},
			{NIC: 1, Flags: 0, Round: r, MonoBeforeNs: int64(10*r + 1), MonoAfterNs: int64(10*r + 2)},
		}
		if err := w.WriteNICSamples(round...); err != nil {
			t.Fatal(err)
		}
		want = append(want, round...)
		if r == rounds/2 {
			w.WriteJSON(RecNote, Note{Text: "midway"})
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	tr, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(tr.NICs) != 1 || !reflect.DeepEqual(tr.NICs[0], nic) {
		t.Errorf("NICs %+v, want %+v", tr.NICs, nic)
	}
	if !reflect.DeepEqual(tr.NICSamples, want) {
		t.Fatalf("%d NIC samples back, want %d; first %+v", len(tr.NICSamples), len(want), tr.NICSamples[:min(2, len(tr.NICSamples))])
	}
	if tr.Unknown != 0 {
		t.Errorf("%d unknown records", tr.Unknown)
	}
}

func TestNICSampleRecordOfWrongSizeIsCorrupt(t *testing.T) {
	rec := Record{Type: RecNICSamples, Payload: make([]byte, NICSampleSize+1)}
	if err := rec.NICSamples(func(NICSample) {}); err == nil {
		t.Fatal("a record of 49 bytes decoded")
	}
}
