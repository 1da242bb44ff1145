package main

import (
	"bufio"
	"os"
	"strconv"
	"strings"
)

// row is one line of nccl-tests' table: a size and its out-of-place and
// in-place bus bandwidth.
type row struct {
	size, count uint64
	busbw       float64 // GB/s, the mean of out-of-place and in-place
}

// readTable parses nccl-tests' output: lines whose first two fields are
// integers (size in bytes, count in elements) and whose last eight are the
// out-of-place and in-place time, algbw, busbw and #wrong (the redop
// column is empty for some tests).
func readTable(path string) ([]row, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var rows []row
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		if len(fs) < 12 || strings.HasPrefix(fs[0], "#") {
			continue
		}
		n := len(fs)
		size, err1 := strconv.ParseUint(fs[0], 10, 64)
		count, err2 := strconv.ParseUint(fs[1], 10, 64)
		oop, err3 := strconv.ParseFloat(fs[n-6], 64)
		ip, err4 := strconv.ParseFloat(fs[n-2], 64)
		if err1 != nil || err2 != nil || err3 != nil || err4 != nil {
			continue
		}
		rows = append(rows, row{size: size, count: count, busbw: (oop + ip) / 2})
	}
	return rows, sc.Err()
}
