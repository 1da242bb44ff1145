package collect

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/linkprof/linkprof/internal/procstat"
)

// groupLive lists the live (not zombie) processes of process group pgid
// from /proc. Zombies are left out: a worker whose parent died is
// reparented to PID 1, and its reaping is not ours to wait for.
func groupLive(pgid int) []int {
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	var pids []int
	for _, path := range stats {
		data, err := os.ReadFile(path)
		if err != nil {
			continue // exited while we looked
		}
		if st, ok := procstat.Parse(string(data)); ok && st.PGrp == pgid && st.Live() {
			pids = append(pids, st.Pid)
		}
	}
	return pids
}

// reapGroup ends what is left of the group once its leader exited:
// workers get grace to finish their own shutdown (CUDA and NCCL teardown
// takes seconds), then SIGKILL and a few seconds to be gone. It returns
// an error naming the processes still alive after that.
func reapGroup(pgid int, grace time.Duration) error {
	if waitGroupGone(pgid, grace) {
		return nil
	}
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
	if waitGroupGone(pgid, 5*time.Second) {
		return nil
	}
	return fmt.Errorf("processes %v of its process group still alive after SIGKILL", groupLive(pgid))
}

func waitGroupGone(pgid int, limit time.Duration) bool {
	deadline := time.Now().Add(limit)
	for len(groupLive(pgid)) > 0 {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(50 * time.Millisecond)
	}
	return true
}
