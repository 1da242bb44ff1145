package correlate

import "strconv"

func itoa(v int64) string { return strconv.FormatInt(v, 10) }

func ftoa1(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }
