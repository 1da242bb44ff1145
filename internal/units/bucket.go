package units

import "math/bits"

// Bucket is a power-of-two range of sizes, low included, high excluded:
// [16KiB, 32KiB). A call's payload falls in one (the path table of
// report.json and the profile's size_bucket label). The bound a size
// equals starts its bucket because the thresholds that route collectives
// between paths compare with "size < limit" (vLLM's custom all-reduce and
// symmetric-memory limits, powers of two): a payload of exactly the limit
// takes the next path and lands in the next bucket, so no bucket holds
// sizes on both sides of such a threshold.
type Bucket struct {
	Low, High uint64 // High is 0 for the top bucket, [2^63, 2^64)
}

// BucketOf is the bucket of size b; 0 is its own bucket, [0, 1).
func BucketOf(b uint64) Bucket {
	if b == 0 {
		return Bucket{0, 1}
	}
	k := bits.Len64(b) - 1
	return Bucket{Low: 1 << k, High: 1 << k << 1}
}

// String names the bucket by its bounds in Short's words:
// "16KiB-32KiB", "1B-2B", "0B" for the empty payload.
func (b Bucket) String() string {
	if b.Low == 0 {
		return "0B"
	}
	high := "16384PiB" // 2^64, past Short's largest unit as Short writes 2^63
	if b.High != 0 {
		high = Short(b.High)
	}
	return Short(b.Low) + "-" + high
}
