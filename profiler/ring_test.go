package profiler

import "testing"

// The ring buffer the kernel makes is the size asked for, or loading fails:
// never silently another size.
func TestRingBufferIsTheSizeAsked(t *testing.T) {
	requirePrivileges(t)
	for _, c := range []struct{ asked, want uint32 }{{0, DefaultRingBytes}, {4096, 4096}, {32 << 20, 32 << 20}} {
		p, err := LoadProbes(ProbeOptions{RingBytes: c.asked})
		if err != nil {
			t.Fatalf("ring of %d bytes: %v", c.asked, err)
		}
		info, err := p.objs.Events.Info()
		p.Close()
		if err != nil {
			t.Fatal(err)
		}
		if info.MaxEntries != c.want {
			t.Errorf("asked %d bytes: the kernel's ring holds %d, want %d", c.asked, info.MaxEntries, c.want)
		}
	}
	for _, bad := range []uint32{3 << 20, 1024} {
		if p, err := LoadProbes(ProbeOptions{RingBytes: bad}); err == nil {
			p.Close()
			t.Errorf("ring of %d bytes was accepted", bad)
		}
	}
}
