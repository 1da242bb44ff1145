package profiler

import (
	"regexp"
	"testing"

	"github.com/linkprof/linkprof/profiler/extra"
	"github.com/linkprof/linkprof/trace"
)

// A class returned by value moves the arguments one register on x86-64
// only (System V passes its address first; arm64 in x8), and argument 0
// ("none") never moves.
func TestHiddenReturnShiftsArgumentsOnAmd64(t *testing.T) {
	cases := []struct {
		hidden bool
		arch   string
		in     [3]int
		want   [3]int
	}{
		{true, "amd64", [3]int{0, 1, 2}, [3]int{0, 2, 3}},
		{true, "arm64", [3]int{0, 1, 2}, [3]int{0, 1, 2}},
		{false, "amd64", [3]int{0, 1, 2}, [3]int{0, 1, 2}},
	}
	for _, c := range cases {
		at := abiArg(c.hidden, c.arch)
		for i, n := range c.in {
			if got := at(n); got != c.want[i] {
				t.Errorf("hidden %v on %s: argument %d -> %d, want %d", c.hidden, c.arch, n, got, c.want[i])
			}
		}
	}
}

// The cookie's top byte carries each size mode's parameter: the tensor
// offset in words, the fixed dtype, the packed-argument index; a group
// named by string sets the flag that has the probe hash it.
func TestCookieSizeParameter(t *testing.T) {
	anyName := regexp.MustCompile(`.`)
	cases := []struct {
		p     extra.Probe
		dtype trace.DataType
		want  uint64
	}{
		{extra.Probe{SizeMode: extra.SizeTensor, TensorNumelOffset: 160, SizeArg: 2}, -1, 2<<20 | 20<<56},
		{extra.Probe{SizeMode: extra.SizeTyped, SizeArg: 4}, 9, 3<<20 | 9<<56},
		{extra.Probe{SizeMode: extra.SizeFFITensor, FFIArg: 6, SizeArg: 2}, -1, 4<<20 | 6<<56},
		{extra.Probe{SizeMode: extra.SizeBytes, SizeArg: 3}, -1, 1 << 20},
		// a group name: LP_FLAG_COMM_NAME in the flag bits (16-19)
		{extra.Probe{SizeMode: extra.SizeTensor, TensorNumelOffset: 160, SizeArg: 1, CommArg: 3, CommIsName: true}, -1,
			2<<20 | trace.FlagCommName<<16 | 20<<56},
	}
	for _, c := range cases {
		c.p.Demangled = anyName
		if got := extraProbe(c.p, "f", c.dtype).extra; got != c.want {
			t.Errorf("mode %d: cookie extra %#x, want %#x", c.p.SizeMode, got, c.want)
		}
	}
}
