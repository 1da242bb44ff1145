package trace

import "testing"

// Every collective kind, NCCL's or the extra table's, names its path; no
// other kind does.
func TestEveryCollectiveHasAPath(t *testing.T) {
	for _, k := range Kinds() {
		collective := k.IsCollective() || k.IsCustomCollective()
		if got := k.Path(); (got != "") != collective {
			t.Errorf("%s: path %q, collective %v", k, got, collective)
		}
	}
	if got := SymmMemTwoShotAllReduce.Path(); got != "symm-mem" {
		t.Errorf("two-shot all-reduce path %q, want symm-mem", got)
	}
}
