package fakenccl

import "path/filepath"

// BuildNetRanks compiles netranks into p.Dir (Build first): ranks of one
// communicator whose collectives move their ring bytes over TCP on lo, as
// NCCL's socket transport between local ranks does.
func BuildNetRanks(p *Programs) (string, error) {
	src, out := filepath.Join(p.Dir, "src"), filepath.Join(p.Dir, "netranks")
	err := compile([]string{"-O2", "-g", "-DLINKED", "-pthread", "-I", src, "-o", out, filepath.Join(src, "netranks.c"),
		"-L", p.Dir, "-l:libnccl.so.2", "-Wl,-rpath," + p.Dir})
	return out, err
}
