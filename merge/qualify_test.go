package merge

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strings"
	"testing"

	"github.com/linkprof/linkprof/trace"
)

// qualified lists every record type and what the merge does with it
// (stream.go, qualify.go, emit.go). A record type that carries a pid, a
// GPU, a NIC or a time must be qualified by its host, or two hosts' would
// be mixed up: a new one needs a rule here before it can be merged.
var qualified = map[trace.RecordType]string{
	trace.RecStart:       "one merged Start, with the hosts",
	trace.RecProcess:     "pid, ppid, seen time, GPU, CUDA_VISIBLE_DEVICES, host",
	trace.RecLibrary:     "pid, attach time",
	trace.RecComm:        "pid, creation time",
	trace.RecEvents:      "time, pid, tid, stack id",
	trace.RecLost:        "the hosts' counts summed",
	trace.RecClock:       "the reference's only",
	trace.RecGPU:         "index, peers, compute pids, host",
	trace.RecSamples:     "GPU, times, wall stamp",
	trace.RecLinkSamples: "GPU, times, wall stamp",
	trace.RecStack:       "id, pid",
	trace.RecMappings:    "pid, time",
	trace.RecNote:        "time, host named in the text",
	trace.RecStop:        "one merged Stop when every host stopped",
	trace.RecGPUSamples:  "GPU, time",
	trace.RecStall:       "id, times, pids, GPUs, host named in the communicator",
	trace.RecNIC:         "index (MergedNIC), host",
	trace.RecNICSamples:  "NIC (MergedNIC), times",
}

// Every record type trace/format.go defines has a rule in qualified: the
// test reads the constants from the source, so a type added there fails
// here until the merge handles it.
func TestEveryRecordTypeHasAMergeRule(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), filepath.Join("..", "trace", "format.go"), nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	ast.Inspect(f, func(node ast.Node) bool {
		vs, ok := node.(*ast.ValueSpec)
		if !ok || len(vs.Names) != 1 || !strings.HasPrefix(vs.Names[0].Name, "Rec") {
			return true
		}
		lit, ok := vs.Values[0].(*ast.BasicLit)
		if !ok {
			t.Errorf("%s: not a literal", vs.Names[0].Name)
			return true
		}
		var v int
		for _, c := range lit.Value {
			v = v*10 + int(c-'0')
		}
		n++
		if _, ok := qualified[trace.RecordType(v)]; !ok {
			t.Errorf("record type %s (%d) has no merge rule: qualify its pids, GPUs and times by host (merge/qualify.go)", vs.Names[0].Name, v)
		}
		return true
	})
	if n != len(qualified) {
		t.Errorf("trace/format.go defines %d record types, the merge has rules for %d", n, len(qualified))
	}
}

// Hosts of one name are told apart by #2, #3...: never into a name
// another recording already has.
func TestMergedHostNamesAreUnique(t *testing.T) {
	dirs := []string{netHost(t, "x", 5e9, 0, 20), netHost(t, "x#2", 6e9, 1, 20), netHost(t, "x", 7e9, 1, 20)}
	hosts := newHosts([]*recording{mustScan(t, dirs[0]), mustScan(t, dirs[1]), mustScan(t, dirs[2])})
	seen := map[string]bool{}
	for _, h := range hosts {
		if seen[h.info.Name] {
			t.Errorf("host name %s given twice", h.info.Name)
		}
		seen[h.info.Name] = true
	}
}

func mustScan(t *testing.T, dir string) *recording {
	t.Helper()
	r, err := scan(dir)
	if err != nil {
		t.Fatal(err)
	}
	return r
}
