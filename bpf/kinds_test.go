package bpf_test

import (
	"strings"
	"testing"

	"github.com/cilium/ebpf/btf"

	"github.com/linkprof/linkprof/trace"
)

// enum lp_kind in bpf/event.h and trace.Kind must agree value for value:
// the kind is the attach cookie and is stored in the trace.
func TestKindsMatchC(t *testing.T) {
	enum := compiled[*btf.Enum](t, "lp_kind")
	byValue := map[uint64]string{}
	for _, v := range enum.Values {
		byValue[v.Value] = v.Name
	}
	kinds := trace.Kinds()
	if got, want := len(enum.Values), len(kinds)+2; got != want { // + NONE and MAX
		t.Fatalf("lp_kind has %d values, trace.Kinds %d (+ NONE, MAX)", got, len(kinds))
	}
	for _, k := range kinds {
		name, ok := byValue[uint64(k)]
		if !ok {
			t.Errorf("trace kind %s (%d) is not in lp_kind", k, k)
			continue
		}
		if squash(name) != "LP"+strings.ToUpper(k.String()) {
			t.Errorf("value %d: C %s, Go %s", k, name, k)
		}
	}
}

// enum lp_flag and the trace's flag constants agree: the cookie sets them
// and the trace stores them.
func TestFlagsMatchC(t *testing.T) {
	enum := compiled[*btf.Enum](t, "lp_flag")
	want := map[string]uint64{"LP_FLAG_RETURN": trace.FlagReturn, "LP_FLAG_DRIVER": trace.FlagDriver,
		"LP_FLAG_COMM_NAME": trace.FlagCommName}
	if len(enum.Values) != len(want) {
		t.Errorf("lp_flag has %d values, the trace knows %d", len(enum.Values), len(want))
	}
	for _, v := range enum.Values {
		if w, ok := want[v.Name]; !ok || w != v.Value {
			t.Errorf("C %s = %d, trace says %d (known: %v)", v.Name, v.Value, w, ok)
		}
	}
}
