package procstat

import "testing"

func TestParseNameWithSpacesAndParens(t *testing.T) {
	s, ok := Parse("4242 (standin (tp 0)) S 1 4240 4240 0 -1 4194560\n")
	want := Stat{Pid: 4242, Comm: "standin (tp 0)", State: 'S', PPid: 1, PGrp: 4240}
	if !ok || s != want {
		t.Fatalf("Parse = %+v %v, want %+v", s, ok, want)
	}
	if z, _ := Parse("7 (x) Z 1 7 7"); z.Live() {
		t.Error("a zombie is live")
	}
	for _, bad := range []string{"garbage", "(x) S 1 2 3", "7 (x) S", "7 (x) S one 2 3"} {
		if _, ok := Parse(bad); ok {
			t.Errorf("Parse(%q) accepted it", bad)
		}
	}
}
