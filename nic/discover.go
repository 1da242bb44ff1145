package nic

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/linkprof/linkprof/trace"
)

// DefaultRoot is where sysfs is mounted.
const DefaultRoot = "/sys"

// Device is a network device whose byte counters can be sampled.
type Device struct {
	trace.NIC
	// Up: a netdev with IFF_UP set, an IB port in state ACTIVE.
	Up bool
	// RDMA is the IB device a netdev belongs to (RoCE, IPoIB), "" none.
	RDMA string
	// IBDevice and Port name an IB port.
	IBDevice string
	Port     int
}

// Discover lists the network devices under root (a sysfs tree; "" is
// DefaultRoot): every IB port with data counters, then every netdev with
// statistics, each in name order. Counter paths in the result are relative
// to root. A missing class folder is no error: the host has none of those.
func Discover(root string) ([]Device, error) {
	if root == "" {
		root = DefaultRoot
	}
	ib, err := discoverIB(root)
	if err != nil {
		return nil, err
	}
	nd, err := discoverNetdevs(root)
	if err != nil {
		return nil, err
	}
	return append(ib, nd...), nil
}

// listDir is the names in a folder, sorted; a missing folder is empty.
func listDir(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("listing network devices: %w", err)
	}
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		names = append(names, e.Name())
	}
	slices.Sort(names)
	return names, nil
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// readText is a small sysfs file's content, trimmed; "" when unreadable.
func readText(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

func discoverNetdevs(root string) ([]Device, error) {
	dir := filepath.Join(root, "class", "net")
	names, err := listDir(dir)
	if err != nil {
		return nil, err
	}
	var out []Device
	for _, name := range names {
		stats := filepath.Join("class", "net", name, "statistics")
		if !exists(filepath.Join(root, stats, "tx_bytes")) {
			continue
		}
		d := Device{NIC: trace.NIC{Name: name, Kind: trace.NICKindNetdev,
			TxCounter: filepath.Join(stats, "tx_bytes"), RxCounter: filepath.Join(stats, "rx_bytes"),
			UnitBytes: 1, CounterBits: 64}}
		base := filepath.Join(dir, name)
		d.Virtual = isVirtual(base)
		d.Up = netdevUp(readText(filepath.Join(base, "flags")))
		if mbps, err := strconv.ParseFloat(readText(filepath.Join(base, "speed")), 64); err == nil && mbps > 0 {
			d.SpeedBps = mbps * 1e6 / 8
		}
		if ib, _ := listDir(filepath.Join(base, "device", "infiniband")); len(ib) > 0 {
			d.RDMA = ib[0]
		}
		out = append(out, d)
	}
	return out, nil
}

// isVirtual: /sys/class/net/X links into /sys/devices/virtual/net/X for a
// device with no hardware under it (lo, bridges, veth, ifb).
func isVirtual(classEntry string) bool {
	target, err := os.Readlink(classEntry)
	if err != nil {
		return !exists(filepath.Join(classEntry, "device"))
	}
	return strings.Contains(target, "/devices/virtual/")
}

// iffUp is IFF_UP in /sys/class/net/X/flags.
const iffUp = 0x1

func netdevUp(flags string) bool {
	v, err := strconv.ParseUint(strings.TrimPrefix(flags, "0x"), 16, 64)
	return err == nil && v&iffUp != 0
}
