package correlate

import (
	"testing"

	"github.com/linkprof/linkprof/trace"
)

// Every kind has its own tally: one past maxKinds would be counted as
// another op (a DeepEP dispatch as a Broadcast).
func TestEveryKindHasATally(t *testing.T) {
	for _, k := range trace.Kinds() {
		if int(k) >= maxKinds {
			t.Errorf("%v (%d) is past maxKinds %d", k, k, maxKinds)
		}
	}
}
