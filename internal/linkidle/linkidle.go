// Package linkidle is the rule for an NVLink counter interval that moved
// nothing, shared by the analysis (segments) and the recorder's live stall
// watch (links flat).
package linkidle

const (
	// An interval is quiet when it moves less than quietBytes plus
	// quietBps over its length in both directions: the counters count
	// KiB, and a long interval (failed reads) gathers a little noise.
	quietBytes = 2 << 10
	quietBps   = 1e6
)

// Quiet reports whether an interval of durNs that moved txBytes and
// rxBytes moved (almost) nothing.
func Quiet(txBytes, rxBytes float64, durNs int64) bool {
	return max(txBytes, rxBytes) < quietBytes+quietBps*float64(durNs)/1e9
}
