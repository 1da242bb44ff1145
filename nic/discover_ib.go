package nic

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/linkprof/linkprof/trace"
)

// ibCounters are the byte counters of an IB port, best first: 64-bit byte
// counters some drivers keep in hw_counters (EFA, bnxt_re), the extended
// data counters of older kernels (counters_ext, 64-bit, 4-byte units), and
// the port's data counters (4-byte units; 64-bit where the HCA has extended
// counters, else 32-bit and sticky at their maximum).
var ibCounters = []struct {
	dir, tx, rx string
	unit, bits  int
}{
	{"hw_counters", "tx_bytes", "rx_bytes", 1, 64},
	{"counters_ext", "port_xmit_data_64", "port_rcv_data_64", 4, 64},
	{"counters", "port_xmit_data", "port_rcv_data", 4, 64},
}

func discoverIB(root string) ([]Device, error) {
	devs, err := listDir(filepath.Join(root, "class", "infiniband"))
	if err != nil {
		return nil, err
	}
	var out []Device
	for _, dev := range devs {
		ports, err := listDir(filepath.Join(root, "class", "infiniband", dev, "ports"))
		if err != nil {
			return nil, err
		}
		netdevs, _ := listDir(filepath.Join(root, "class", "infiniband", dev, "device", "net"))
		for _, p := range ports {
			n, err := strconv.Atoi(p)
			if err != nil {
				continue
			}
			if d, ok := ibPort(root, dev, n); ok {
				if len(netdevs) > 0 {
					d.Netdev = netdevs[0]
				}
				out = append(out, d)
			}
		}
	}
	return out, nil
}

// ibPort describes one port, if it has byte counters.
func ibPort(root, dev string, port int) (Device, bool) {
	rel := filepath.Join("class", "infiniband", dev, "ports", strconv.Itoa(port))
	base := filepath.Join(root, rel)
	for _, c := range ibCounters {
		tx, rx := filepath.Join(rel, c.dir, c.tx), filepath.Join(rel, c.dir, c.rx)
		if !exists(filepath.Join(root, tx)) || !exists(filepath.Join(root, rx)) {
			continue
		}
		d := Device{IBDevice: dev, Port: port, NIC: trace.NIC{Name: fmt.Sprintf("%s:%d", dev, port), Kind: trace.NICKindIB,
			LinkLayer: readText(filepath.Join(base, "link_layer")), TxCounter: tx, RxCounter: rx,
			UnitBytes: c.unit, CounterBits: c.bits}}
		d.Up = strings.Contains(readText(filepath.Join(base, "state")), "ACTIVE")
		d.SpeedBps = ibRate(readText(filepath.Join(base, "rate")))
		return d, true
	}
	return Device{}, false
}

// ibRate reads a port's rate file ("200 Gb/sec (4X HDR)") as bytes/s.
func ibRate(s string) float64 {
	f := strings.Fields(s)
	if len(f) < 2 || !strings.HasPrefix(f[1], "Gb/") {
		return 0
	}
	g, err := strconv.ParseFloat(f[0], 64)
	if err != nil {
		return 0
	}
	return g * 1e9 / 8
}
