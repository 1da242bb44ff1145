// Package units formats byte counts, the one formatter every output uses.
//
// Hand-written rather than github.com/dustin/go-humanize: humanize.IBytes
// rounds to one decimal below 10 and none above ("1.2 GiB", "16 GiB"),
// which would change the report's two-decimal tables and the size-bucket
// names report.json and the profile use as keys ("32KiB"); it would be a
// dependency for twenty lines; and this formats with strconv, no fmt, at
// about half the cost of fmt.Sprintf per call (BenchmarkBytes).
package units

import (
	"strconv"
	"strings"
)

var iec = [...]string{"B", "KiB", "MiB", "GiB", "TiB", "PiB"}

// scale is b in the largest IEC unit it reaches, and that unit's index.
func scale(b uint64) (float64, int) {
	v, i := float64(b), 0
	for v >= 1024 && i < len(iec)-1 {
		v /= 1024
		i++
	}
	return v, i
}

// Bytes formats b for tables and text: "512 B", "1.25 GiB", "32.00 KiB":
// two decimals past bytes, so a column reads evenly.
func Bytes(b uint64) string {
	v, i := scale(b)
	if i == 0 {
		return strconv.FormatUint(b, 10) + " B"
	}
	return strconv.FormatFloat(v, 'f', 2, 64) + " " + iec[i]
}

// Short names a size in one word, to two decimals without trailing
// zeros: "512B", "32KiB", "1.5GiB"; exact for powers of two (size
// buckets, labels).
func Short(b uint64) string {
	v, i := scale(b)
	s := strconv.FormatFloat(v, 'f', 2, 64)
	return strings.TrimRight(strings.TrimRight(s, "0"), ".") + iec[i]
}
