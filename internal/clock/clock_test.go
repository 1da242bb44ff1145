package clock

import "testing"

// The pair comes from the try whose two monotonic reads lie closest, with
// the wall reading taken between them.
func TestPairKeepsTheTightestTry(t *testing.T) {
	monos := []int64{0, 100, 200, 210, 300, 350, 400, 480, 500, 560}
	walls := []int64{1, 2, 3, 4, 5}
	var m, w int
	mono := func() int64 { m++; return monos[m-1] }
	wall := func() int64 { w++; return walls[w-1] }
	got := Pair("test", mono, wall)
	if got.MonoNs != 205 || got.WallNs != 2 || got.UncertaintyNs != 10 || got.Source != "test" {
		t.Fatalf("pair %+v, want mono 205, wall 2, uncertainty 10", got)
	}
}
