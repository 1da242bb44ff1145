package bpf_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/cilium/ebpf/btf"

	"github.com/linkprof/linkprof/bpf"
)

// The generated NcclLpEvent, through which the trace reads and writes every
// event, and struct lp_event in the compiled object agree field by field:
// name, offset and size. A stale generation fails here.
func TestEventLayoutMatchesC(t *testing.T) {
	st := compiled[*btf.Struct](t, "lp_event")
	goType := reflect.TypeFor[bpf.NcclLpEvent]()
	if int(st.Size) != int(goType.Size()) {
		t.Fatalf("C struct lp_event is %d bytes, Go NcclLpEvent %d", st.Size, goType.Size())
	}
	var fields []reflect.StructField
	for i := range goType.NumField() {
		if f := goType.Field(i); f.Name != "_" {
			fields = append(fields, f)
		}
	}
	if len(fields) != len(st.Members) {
		t.Fatalf("C struct lp_event has %d fields, Go NcclLpEvent %d", len(st.Members), len(fields))
	}
	for i, m := range st.Members {
		f := fields[i]
		size, err := btf.Sizeof(m.Type)
		if err != nil {
			t.Fatal(err)
		}
		if squash(m.Name) != strings.ToUpper(f.Name) || m.Offset.Bytes() != uint32(f.Offset) || size != int(f.Type.Size()) {
			t.Errorf("C %s (byte %d, %d bytes) against Go %s (byte %d, %d bytes)",
				m.Name, m.Offset.Bytes(), size, f.Name, f.Offset, f.Type.Size())
		}
	}
}

// compiled finds a type in the BTF of the compiled object.
func compiled[T btf.Type](t *testing.T, name string) T {
	t.Helper()
	var typ T
	spec, err := bpf.LoadNccl()
	if err == nil {
		err = spec.Types.TypeByName(name, &typ)
	}
	if err != nil {
		t.Fatalf("%s in the compiled object's BTF: %v", name, err)
	}
	return typ
}

// squash drops underscores and upper-cases: stack_id -> STACKID.
func squash(s string) string { return strings.ToUpper(strings.ReplaceAll(s, "_", "")) }
