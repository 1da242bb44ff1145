package trace

import "testing"

// The analysis decodes every event once: this is its per-event floor.
func BenchmarkDecodeEvent(b *testing.B) {
	var raw []byte
	for i := range 1024 {
		raw = AppendEvent(raw, sampleEvent(i))
	}
	rec := Record{Type: RecEvents, Payload: raw}
	var sum uint64
	b.SetBytes(int64(len(raw)))
	for b.Loop() {
		rec.Events(func(e Event) { sum += e.Count + uint64(e.Kind) })
	}
	if sum == 0 {
		b.Fatal("nothing decoded")
	}
}

func BenchmarkAppendEvent(b *testing.B) {
	raw := make([]byte, 0, 1024*EventSize)
	e := sampleEvent(1)
	for b.Loop() {
		raw = raw[:0]
		for range 1024 {
			raw = AppendEvent(raw, e)
		}
	}
}
