package units

import "strconv"

var timeUnits = [...]struct {
	ns   float64
	name string
}{{1e9, "s"}, {1e6, "ms"}, {1e3, "µs"}, {1, "ns"}}

// Duration formats a span for tables and text in one style: three
// significant digits in the largest unit it reaches, "1.23 s", "45.6 ms",
// "789 µs", "12 ns"; past 1000 s whole seconds ("2467 s"), never Go's
// "41m6.52307s", so a column of durations reads in one unit style.
func Duration(ns int64) string {
	if ns == 0 {
		return "0 s"
	}
	if ns < 0 {
		return "-" + Duration(-ns)
	}
	for i, u := range timeUnits {
		v := float64(ns) / u.ns
		if v < 1 && i < len(timeUnits)-1 {
			continue
		}
		d := decimals(v)
		if u.ns == 1 {
			d = 0 // nanoseconds are whole
		}
		s := strconv.FormatFloat(v, 'f', d, 64)
		// 999.7 µs rounds to "1000 µs": say "1.00 ms" instead.
		if i > 0 && s == "1000" {
			return "1.00 " + timeUnits[i-1].name
		}
		return s + " " + u.name
	}
	return "" // unreachable: ns is the last unit
}

// decimals keeps three significant digits below 100 and none above.
func decimals(v float64) int {
	switch {
	case v >= 99.95:
		return 0
	case v >= 9.995:
		return 1
	}
	return 2
}
