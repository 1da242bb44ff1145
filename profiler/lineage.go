package profiler

import (
	"errors"
	"fmt"
	"github.com/linkprof/linkprof/internal/procstat"
	"os"
)

// ErrOwnLineage refuses a target that is linkprof or one of its parent
// processes: following its tree would record linkprof itself (and a
// --pid-of pattern always matches the shell or sudo that started linkprof).
var ErrOwnLineage = errors.New("is linkprof or one of its parent processes")

// ownLineage returns linkprof's pid and those of its parents up to the root
// of its pid namespace.
func ownLineage() map[uint32]bool {
	own := map[uint32]bool{}
	for pid := uint32(os.Getpid()); pid != 0 && !own[pid]; {
		own[pid] = true
		ppid, ok := parentOf(pid)
		if !ok {
			break
		}
		pid = ppid
	}
	return own
}

// parentOf reads a process's parent pid from /proc/PID/stat.
func parentOf(pid uint32) (uint32, bool) {
	stat, err := os.ReadFile(procPath(pid, "stat"))
	if err != nil {
		return 0, false
	}
	st, ok := procstat.Parse(string(stat))
	return st.PPid, ok
}

// checkNotOwn refuses pids of linkprof's own lineage.
func checkNotOwn(pids []uint32) error {
	own := ownLineage()
	for _, pid := range pids {
		if own[pid] {
			return fmt.Errorf("pid %d %w: recording it would record linkprof itself", pid, ErrOwnLineage)
		}
	}
	return nil
}
