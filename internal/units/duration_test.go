package units

import "testing"

func TestDuration(t *testing.T) {
	for _, c := range []struct {
		ns   int64
		want string
	}{
		{0, "0 s"},
		{12, "12 ns"},
		{1_500, "1.50 µs"},
		{45_000, "45.0 µs"},
		{999_700, "1.00 ms"},
		{12_345_678, "12.3 ms"},
		{438_000_000, "438 ms"},
		{1_234_000_000, "1.23 s"},
		{15_800_000_000, "15.8 s"},
		{2_466_523_070_000, "2467 s"}, // Go: 41m6.52307s
		{-3_000_000, "-3.00 ms"},
	} {
		if got := Duration(c.ns); got != c.want {
			t.Errorf("Duration(%d) = %q, want %q", c.ns, got, c.want)
		}
	}
}
