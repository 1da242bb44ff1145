package nic

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// fakeSysfs builds a sysfs tree like a GPU node's: a ConnectX port with
// RoCE netdev ens3f0, an IB-only port that is down, the management NIC
// eth0, a down NIC, lo, a docker bridge.
func fakeSysfs(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	put := func(rel, content string) {
		t.Helper()
		p := filepath.Join(root, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	link := func(rel, target string) {
		t.Helper()
		p := filepath.Join(root, rel)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.Symlink(target, p); err != nil {
			t.Fatal(err)
		}
	}
	netdev := func(name, devPath, flags, speed string, tx, rx uint64) {
		put(filepath.Join(devPath, "net", name, "flags"), flags)
		put(filepath.Join(devPath, "net", name, "speed"), speed)
		put(filepath.Join(devPath, "net", name, "statistics", "tx_bytes"), strconv.FormatUint(tx, 10))
		put(filepath.Join(devPath, "net", name, "statistics", "rx_bytes"), strconv.FormatUint(rx, 10))
		link(filepath.Join("class", "net", name), filepath.Join("..", "..", devPath, "net", name))
	}
	pci := "devices/pci0000:00/0000:00:03.0"
	netdev("eth0", pci+"/virtio2", "0x1003", "-1", 1000, 2000)
	netdev("eth1", "devices/pci0000:00/0000:00:04.0", "0x1002", "25000", 0, 0)
	netdev("lo", "devices/virtual", "0x9", "", 500, 500)
	netdev("docker0", "devices/virtual", "0x1003", "", 7, 7)
	cx := "devices/pci0000:17/0000:17:00.0"
	netdev("ens3f0", cx, "0x1003", "200000", 11, 12)
	put(cx+"/infiniband/mlx5_0/ports/1/state", "4: ACTIVE")
	link(filepath.Join(cx, "net", "ens3f0", "device"), filepath.Join("..", ".."))
	link("class/infiniband/mlx5_0", filepath.Join("..", "..", cx, "infiniband", "mlx5_0"))
	link(filepath.Join(cx, "infiniband", "mlx5_0", "device"), filepath.Join("..", ".."))
	ib := cx + "/infiniband/mlx5_0/ports/1/"
	put(ib+"rate", "200 Gb/sec (4X HDR)")
	put(ib+"link_layer", "Ethernet")
	put(ib+"counters/port_xmit_data", "100")
	put(ib+"counters/port_rcv_data", "200")
	ib2 := "devices/pci0000:18/0000:18:00.0/infiniband/mlx5_1/ports/1/"
	put(ib2+"state", "1: DOWN")
	put(ib2+"link_layer", "InfiniBand")
	put(ib2+"counters_ext/port_xmit_data_64", "3")
	put(ib2+"counters_ext/port_rcv_data_64", "4")
	put(ib2+"counters/port_xmit_data", "3")
	put(ib2+"counters/port_rcv_data", "4")
	link("class/infiniband/mlx5_1", filepath.Join("..", "..", "devices/pci0000:18/0000:18:00.0/infiniband/mlx5_1"))
	efa := "devices/pci0000:19/0000:19:00.0/infiniband/efa_0/ports/1/"
	put(efa+"state", "4: ACTIVE")
	put(efa+"hw_counters/tx_bytes", "5")
	put(efa+"hw_counters/rx_bytes", "6")
	link("class/infiniband/efa_0", filepath.Join("..", "..", "devices/pci0000:19/0000:19:00.0/infiniband/efa_0"))
	return root
}

// setCounter rewrites a counter file of the fake tree in place (same
// inode, as sysfs keeps it), for a sampler that holds it open.
func setCounter(t *testing.T, root, rel string, v uint64) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(root, rel), []byte(strconv.FormatUint(v, 10)+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}

func writeText(root, rel, content string) error {
	return os.WriteFile(filepath.Join(root, rel), []byte(content), 0o644)
}
