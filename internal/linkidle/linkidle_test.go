package linkidle

import "testing"

func TestQuiet(t *testing.T) {
	cases := []struct {
		tx, rx float64
		durNs  int64
		want   bool
	}{
		{0, 0, 1_000_000, true},
		{2047, 0, 0, true},               // under the counters' 2 KiB step
		{2048 + 999, 0, 1_000_000, true}, // 1 ms allows 1,000 bytes more
		{0, 2048 + 1001, 1_000_000, false},
		{0, 40_000, 50_000_000, true},   // a 50 ms stalled read's noise
		{16 << 10, 0, 1_000_000, false}, // a 16 KiB message
	}
	for _, c := range cases {
		if got := Quiet(c.tx, c.rx, c.durNs); got != c.want {
			t.Errorf("Quiet(%v, %v, %d) = %v, want %v", c.tx, c.rx, c.durNs, got, c.want)
		}
	}
}
