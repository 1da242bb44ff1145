// Package procstat reads /proc/PID/stat lines: the recorder (process
// names and parents, liveness) and collect (a server's process group) read
// the same fields the same way.
package procstat

import (
	"strconv"
	"strings"
)

// Stat is the part of /proc/PID/stat linkprof uses.
type Stat struct {
	Pid   int
	Comm  string
	State byte // R, S, D, Z (zombie), ...
	PPid  uint32
	PGrp  int
}

// Parse reads a stat line. The command name may hold spaces and
// parentheses, so the fields are counted from its last ')'.
func Parse(line string) (Stat, bool) {
	open, end := strings.IndexByte(line, '('), strings.LastIndexByte(line, ')')
	if open < 1 || end < open {
		return Stat{}, false
	}
	rest := strings.Fields(line[end+1:])
	if len(rest) < 3 || len(rest[0]) != 1 {
		return Stat{}, false
	}
	pid, err1 := strconv.Atoi(strings.TrimSpace(line[:open]))
	ppid, err2 := strconv.ParseUint(rest[1], 10, 32)
	pgrp, err3 := strconv.Atoi(rest[2])
	if err1 != nil || err2 != nil || err3 != nil {
		return Stat{}, false
	}
	return Stat{Pid: pid, Comm: line[open+1 : end], State: rest[0][0], PPid: uint32(ppid), PGrp: pgrp}, true
}

// Live reports whether the process exists and is not a zombie.
func (s Stat) Live() bool { return s.State != 'Z' && s.State != 'X' }
