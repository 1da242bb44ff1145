package profiler

import (
	"errors"
	"os"
	"regexp"
	"strings"
	"testing"
)

// linkprof's own process and every parent up to pid 1 are never targets:
// -p refuses them, --pid-of and --all leave them out.
func TestOwnLineageIsNeverATarget(t *testing.T) {
	parent := uint32(os.Getppid())
	for _, pid := range []uint32{uint32(os.Getpid()), parent, 1} {
		if err := checkPids([]uint32{pid}); !errors.Is(err, ErrOwnLineage) {
			t.Errorf("-p %d: err = %v, want ErrOwnLineage", pid, err)
		}
	}
	info, err := ReadProcInfo(parent)
	if err != nil {
		t.Fatal(err)
	}
	// The parent's whole command line matches it and may match others.
	pids, _ := PidsMatching(regexp.QuoteMeta(strings.Join(info.Cmdline, " ")))
	own := ownLineage()
	for _, pid := range pids {
		if own[pid] {
			t.Errorf("--pid-of matched pid %d, linkprof's own lineage", pid)
		}
	}
}
