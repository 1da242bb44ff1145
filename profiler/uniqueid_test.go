package profiler

import (
	"encoding/hex"
	"hash/fnv"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/linkprof/linkprof/trace"
)

// jobIDs are the ncclUniqueIds a test's job uses: the world's, then one per
// rank group, as JOB_IDS takes them (hex, the rest of the 128 bytes zero).
// The world's spans all 128 bytes, so a hash of fewer bytes would differ.
var jobIDs = []string{strings.Repeat("5a17c0de", 32), "0001020304050607", "f00d"}

// uniqueIDHash is FNV-1a 64 over the id's 128 bytes, hex as JOB_IDS has it.
func uniqueIDHash(t testing.TB, hexID string) uint64 {
	t.Helper()
	b, err := hex.DecodeString(hexID)
	if err != nil || len(b) > 128 {
		t.Fatalf("bad id %q", hexID)
	}
	h := fnv.New64a()
	h.Write(append(b, make([]byte, 128-len(b))...))
	return h.Sum64()
}

// A job's two ranks created with the ids the test passes in (as a job's
// bootstrap hands them out): every communicator record and every creation
// event carries the FNV-1a hash of the 128 id bytes its ranks were given,
// with ncclCommInitRank and with ncclCommInitRankConfig (whose config
// pointer follows the id).
func TestCommUniqueIDRecorded(t *testing.T) {
	requirePrivileges(t)
	for _, config := range []string{"0", "1"} {
		t.Run("config="+config, func(t *testing.T) {
			cfg := testConfig(t)
			barrier := filepath.Join(t.TempDir(), "barrier")
			if err := os.WriteFile(barrier, make([]byte, 4096), 0o600); err != nil {
				t.Fatal(err)
			}
			cfg.Command = []string{progs.Job, "4", "3"}
			cfg.CommandEnv = env("JOB_IDS="+strings.Join(jobIDs, ","), "JOB_BARRIER="+barrier,
				"JOB_LOCAL_RANKS=4", "JOB_CONFIG="+config)
			sum, tr := record(t, cfg, 60*time.Second)
			if sum.ExitStatus == nil || *sum.ExitStatus != 0 {
				t.Fatalf("job exit %v", sum.ExitStatus)
			}
			kind := map[string]string{"0": "CommInitRank", "1": "CommInitRankConfig"}[config]
			got := map[uint64]int{}
			for _, c := range tr.Comms {
				if c.Kind != kind {
					t.Errorf("comm %+v: kind %s, want %s", c, c.Kind, kind)
				}
				got[c.UniqueID]++
			}
			world, g0, g1 := uniqueIDHash(t, jobIDs[0]), uniqueIDHash(t, jobIDs[1]), uniqueIDHash(t, jobIDs[2])
			if len(tr.Comms) != 8 || got[world] != 4 || got[g0] != 2 || got[g1] != 2 {
				t.Fatalf("unique ids of %d comms %x: want 4 x %x (world), 2 x %x, 2 x %x", len(tr.Comms), got, world, g0, g1)
			}
			// Rank r of the world is in group r % 2.
			worldRank := map[uint32]int32{}
			for _, c := range tr.Comms {
				if c.NRanks == 4 {
					worldRank[c.Pid] = c.Rank
				}
			}
			for _, c := range tr.Comms {
				if c.NRanks == 2 && c.UniqueID != []uint64{g0, g1}[worldRank[c.Pid]%2] {
					t.Errorf("comm %+v of world rank %d: not its group's id", c, worldRank[c.Pid])
				}
			}
			events := 0
			for _, e := range tr.Events {
				if e.Kind.IsCommCreate() && e.Flags&trace.FlagReturn != 0 {
					events++
					if id := e.CommUniqueID(); id != world && id != g0 && id != g1 {
						t.Errorf("creation event %+v: unique id %x", e, id)
					}
				}
			}
			if events != 8 {
				t.Errorf("%d creation events, want 8", events)
			}
		})
	}
}
