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

// Every collective, NCCL's or another path's, names what it does; a
// collective outside NCCL that is not an MoE dispatch or combine does what
// one of NCCL's ops does.
func TestEveryCollectiveNamesItsCollective(t *testing.T) {
	nccl := map[string]bool{}
	for _, k := range Kinds() {
		if k.IsCollective() {
			nccl[k.Op()] = true
		}
	}
	for _, k := range Kinds() {
		got := k.Collective()
		switch {
		case !k.IsCollective() && !k.IsCustomCollective():
			if got != "" {
				t.Errorf("%s: collective %q, want none", k, got)
			}
		case got == "Dispatch" || got == "Combine":
			if k.IsCollective() {
				t.Errorf("%s: NCCL call named %q", k, got)
			}
		case !nccl[got]:
			t.Errorf("%s: collective %q is no NCCL op", k, got)
		}
	}
	if got := SymmMemTwoShotAllReduce.Collective(); got != "AllReduce" {
		t.Errorf("two-shot all-reduce: %q", got)
	}
	if got := Bcast.Collective(); got != "Broadcast" {
		t.Errorf("ncclBcast: %q", got)
	}
}
