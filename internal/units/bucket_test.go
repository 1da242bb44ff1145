package units

import "testing"

func TestBucketOf(t *testing.T) {
	for _, c := range []struct {
		b         uint64
		low, high uint64
		name      string
	}{
		{0, 0, 1, "0B"},
		{1, 1, 2, "1B-2B"},
		{3, 2, 4, "2B-4B"},
		{16<<10 - 1, 8 << 10, 16 << 10, "8KiB-16KiB"},
		// A threshold's own size starts the next bucket (vLLM routes
		// "size < limit" to the smaller path).
		{256 << 10, 256 << 10, 512 << 10, "256KiB-512KiB"},
		{3 << 20, 2 << 20, 4 << 20, "2MiB-4MiB"},
		{1 << 63, 1 << 63, 0, "8192PiB-16384PiB"},
	} {
		got := BucketOf(c.b)
		if got.Low != c.low || got.High != c.high || got.String() != c.name {
			t.Errorf("BucketOf(%d) = %+v %q, want [%d, %d) %q", c.b, got, got, c.low, c.high, c.name)
		}
		if again := BucketOf(got.Low); again != got {
			t.Errorf("BucketOf(%d) = %+v: its low bound's bucket is %+v", c.b, got, again)
		}
	}
}

// Every size is inside its bucket, and buckets of increasing sizes never
// go down.
func TestBucketHoldsItsSizes(t *testing.T) {
	var last uint64
	for b := uint64(0); b < 1<<50; b = b*5/3 + 1 {
		k := BucketOf(b)
		if b < k.Low || (k.High != 0 && b >= k.High) || k.Low < last {
			t.Fatalf("%d in %+v (after low %d)", b, k, last)
		}
		last = k.Low
	}
}
