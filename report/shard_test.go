package report_test

import (
	"math"
	"reflect"
	"testing"
)

// Spreading GPUs over engines must not change the report.
func TestShardedRunMatchesSingle(t *testing.T) {
	dir, _ := simDir(t)
	one, three := runOn(t, dir, 1), runOn(t, dir, 3)
	for i := range one.Ops {
		a, b := one.Ops[i], three.Ops[i]
		if a.Calls != b.Calls || a.PayloadBytes != b.PayloadBytes || diff(a.TxBytes, b.TxBytes) > 1 || diff(a.RxBytes, b.RxBytes) > 1 {
			t.Errorf("%s: one engine %+v, three %+v", a.Op, a, b)
		}
	}
	if diff(one.Unattributed.TxBytes, three.Unattributed.TxBytes) > 1 {
		t.Errorf("unattributed %+v vs %+v", one.Unattributed, three.Unattributed)
	}
	if !reflect.DeepEqual(one.Bursts, three.Bursts) || !reflect.DeepEqual(one.GPUs, three.GPUs) ||
		!reflect.DeepEqual(one.MessageSizes, three.MessageSizes) || one.Analysis != three.Analysis {
		t.Errorf("bursts/gpus/sizes/analysis differ:\n%+v\n%+v\n%+v\n%+v", one.Bursts, three.Bursts, one.GPUs, three.GPUs)
	}
}

func diff(a, b uint64) float64 { return math.Abs(float64(a) - float64(b)) }
