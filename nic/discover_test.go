package nic

import (
	"slices"
	"strings"
	"testing"

	"github.com/linkprof/linkprof/trace"
)

func TestDiscoverFakeSysfs(t *testing.T) {
	devs, err := Discover(fakeSysfs(t))
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		name, kind       string
		up, virtual      bool
		unit             int
		tx, rdma, netdev string
		speed            float64
	}
	var got []row
	for _, d := range devs {
		got = append(got, row{d.Name, d.Kind, d.Up, d.Virtual, d.UnitBytes, d.TxCounter, d.RDMA, d.Netdev, d.SpeedBps})
	}
	want := []row{
		{"efa_0:1", "ib", true, false, 1, "class/infiniband/efa_0/ports/1/hw_counters/tx_bytes", "", "", 0},
		{"mlx5_0:1", "ib", true, false, 4, "class/infiniband/mlx5_0/ports/1/counters/port_xmit_data", "", "ens3f0", 25e9},
		{"mlx5_1:1", "ib", false, false, 4, "class/infiniband/mlx5_1/ports/1/counters_ext/port_xmit_data_64", "", "", 0},
		{"docker0", "netdev", true, true, 1, "class/net/docker0/statistics/tx_bytes", "", "", 0},
		{"ens3f0", "netdev", true, false, 1, "class/net/ens3f0/statistics/tx_bytes", "mlx5_0", "", 25e9},
		{"eth0", "netdev", true, false, 1, "class/net/eth0/statistics/tx_bytes", "", "", 0},
		{"eth1", "netdev", false, false, 1, "class/net/eth1/statistics/tx_bytes", "", "", 25e9 / 8},
		{"lo", "netdev", true, true, 1, "class/net/lo/statistics/tx_bytes", "", "", 0},
	}
	if !slices.Equal(got, want) {
		t.Errorf("discovered\n%+v\nwant\n%+v", got, want)
	}
}

func TestDiscoverEmptyRoot(t *testing.T) {
	devs, err := Discover(t.TempDir())
	if err != nil || len(devs) != 0 {
		t.Errorf("%v, %v: want nothing and no error", devs, err)
	}
}

func TestMatchIfname(t *testing.T) {
	for _, c := range []struct {
		spec, name string
		want       bool
	}{
		{"eth", "eth0", true},
		{"eth", "ens3", false},
		{"ib,eth", "eth1", true},
		{"=eth0", "eth0", true},
		{"=eth0", "eth01", false},
		{"^docker,lo", "eth0", true},
		{"^docker,lo", "docker0", false},
		{"^docker,lo", "lo", false},
		{"^=eth0", "eth0", false},
		{"^=eth0", "eth01", true},
		{"eth0:1234", "eth0", true},
		{"lo", "lo", true},
	} {
		if got := MatchIfname(c.spec, c.name); got != c.want {
			t.Errorf("MatchIfname(%q, %q) = %v, want %v", c.spec, c.name, got, c.want)
		}
	}
}

func selected(t *testing.T, devs []Device) []string {
	t.Helper()
	var out []string
	for i, d := range devs {
		if d.Index != i || d.SelectedBy == "" {
			t.Errorf("%s: index %d at %d, selected by %q", d.Name, d.Index, i, d.SelectedBy)
		}
		out = append(out, d.Name)
	}
	return out
}

func TestAutoSelect(t *testing.T) {
	all, err := Discover(fakeSysfs(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		env  map[string]string
		want []string
	}{
		// Active IB ports; eth0 (up, hardware); not ens3f0 (its port
		// counts NCCL's IB traffic), docker0, lo (virtual), eth1 (down).
		{"no NCCL variables", nil, []string{"efa_0:1", "mlx5_0:1", "eth0"}},
		{"socket ifname lo", map[string]string{"NCCL_SOCKET_IFNAME": "lo"}, []string{"efa_0:1", "mlx5_0:1", "lo"}},
		{"socket ifname prefix", map[string]string{"NCCL_SOCKET_IFNAME": "ens,docker"}, []string{"efa_0:1", "mlx5_0:1", "docker0", "ens3f0"}},
		{"socket ifname excludes", map[string]string{"NCCL_SOCKET_IFNAME": "^docker,eth"}, []string{"efa_0:1", "mlx5_0:1", "ens3f0"}},
		{"socket transport", map[string]string{"NCCL_NET": "Socket", "NCCL_SOCKET_IFNAME": "=eth0"}, []string{"eth0"}},
		{"IB off", map[string]string{"NCCL_IB_DISABLE": "1"}, []string{"ens3f0", "eth0"}},
		// Sockets only: the RoCE netdev carries them (its port is not sampled).
		{"local ranks over the network", map[string]string{"NCCL_P2P_DISABLE": "1", "NCCL_SHM_DISABLE": "1", "NCCL_NET": "Socket"},
			[]string{"ens3f0", "eth0", "lo"}},
		{"P2P level LOC", map[string]string{"NCCL_P2P_LEVEL": "LOC", "NCCL_SHM_DISABLE": "1", "NCCL_NET": "Socket"},
			[]string{"ens3f0", "eth0", "lo"}},
		{"P2P off, SHM on: no network between local ranks", map[string]string{"NCCL_P2P_DISABLE": "1", "NCCL_NET": "Socket"},
			[]string{"ens3f0", "eth0"}},
	} {
		got, err := Select(all, Spec{Auto: true}, EnvOf(c.env))
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if names := selected(t, got); !slices.Equal(names, c.want) {
			t.Errorf("%s: auto picked %v, want %v", c.name, names, c.want)
		}
	}
}

func TestSelectByName(t *testing.T) {
	all, err := Discover(fakeSysfs(t))
	if err != nil {
		t.Fatal(err)
	}
	got, err := Select(all, Spec{Names: []string{"lo", "mlx5_1", "efa_0:1", "lo"}}, Env{})
	if err != nil {
		t.Fatal(err)
	}
	if names := selected(t, got); !slices.Equal(names, []string{"lo", "mlx5_1:1", "efa_0:1"}) {
		t.Errorf("picked %v", names)
	}
	_, err = Select(all, Spec{Names: []string{"eth9"}}, Env{})
	if err == nil || !strings.Contains(err.Error(), `no network device "eth9"`) || !strings.Contains(err.Error(), "eth0, eth1") {
		t.Errorf("unknown name: %v", err)
	}
	if got[1].Kind != trace.NICKindIB || got[1].UnitBytes != 4 {
		t.Errorf("mlx5_1:1 %+v", got[1])
	}
}

func TestParseSpec(t *testing.T) {
	for _, s := range []string{"auto", " auto "} {
		if sp, err := ParseSpec(s); err != nil || !sp.Auto {
			t.Errorf("%q: %+v %v", s, sp, err)
		}
	}
	if sp, err := ParseSpec("none"); err != nil || !sp.None() {
		t.Errorf("none: %+v %v", sp, err)
	}
	if sp, err := ParseSpec("eth0, mlx5_0:1"); err != nil || !slices.Equal(sp.Names, []string{"eth0", "mlx5_0:1"}) {
		t.Errorf("list: %+v %v", sp, err)
	}
	for _, bad := range []string{"eth0,,lo", "auto,eth0", "eth0,none"} {
		if _, err := ParseSpec(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}
