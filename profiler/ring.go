package profiler

import (
	"fmt"
	"os"

	"github.com/cilium/ebpf"
)

// MaxRingBytes is the largest ring buffer the kernel can make: its size is a
// power of two held in 32 bits.
const MaxRingBytes = 1 << 31

// ringBytes checks a requested ring buffer size (0: DefaultRingBytes). The
// kernel maps the ring by pages, so it takes powers of two from a page up.
func ringBytes(asked uint32) (uint32, error) {
	if asked == 0 {
		return DefaultRingBytes, nil
	}
	page := uint32(os.Getpagesize())
	if asked < page || asked&(asked-1) != 0 {
		return 0, fmt.Errorf("ring buffer of %d bytes: must be a power of two from %d to %d", asked, page, uint32(MaxRingBytes))
	}
	return asked, nil
}

// checkRingSize makes sure the kernel made the ring buffer that was asked
// for, never silently another size.
func checkRingSize(m *ebpf.Map, want uint32) error {
	info, err := m.Info()
	if err != nil {
		return fmt.Errorf("reading ring buffer size: %w", err)
	}
	if info.MaxEntries != want {
		return fmt.Errorf("ring buffer is %d bytes, %d were asked for", info.MaxEntries, want)
	}
	return nil
}
