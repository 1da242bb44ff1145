package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// doctor lists the NICs --nics auto would pick and why, under the NCCL
// environment it runs in: the physical netdev by default, lo alone when
// NCCL_SOCKET_IFNAME names it; none picked is an optional check missing.
func TestDoctorListsAutoNICs(t *testing.T) {
	root := filepath.Join(t.TempDir(), "sys")
	fakeNetdev(t, root, "lo", 0, 0)
	fakeNetdev(t, root, "docker0", 0, 0)
	fakeNetdevAt(t, root, "devices/pci0000:00/0000:00:04.0", "eth7", 0, 0)
	for _, c := range []struct {
		root string
		env  []string
		want string
	}{
		{root, []string{"NCCL_SOCKET_IFNAME="}, "NIC eth7: ok netdev, auto: up, not virtual, 10 Gb/s"},
		{root, []string{"NCCL_SOCKET_IFNAME=lo"}, "NIC lo: ok netdev, auto: NCCL_SOCKET_IFNAME=lo"},
		{t.TempDir(), nil, "NICs (--nics auto): missing none picked; devices here: none"},
	} {
		r := linkprof(t, c.env, "doctor", "--json", "--sysfs-root", c.root)
		var out struct {
			Checks []checkedItem `json:"checks"`
		}
		if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
			t.Fatalf("doctor --json: %v\n%s", err, r.stdout)
		}
		var nics []string
		for _, ch := range out.Checks {
			if strings.HasPrefix(ch.Name, "NIC") {
				status := map[bool]string{true: "ok", false: "missing"}[ch.OK]
				nics = append(nics, ch.Name+": "+status+" "+ch.Detail)
			}
		}
		if strings.Join(nics, "\n") != c.want {
			t.Errorf("env %v: NIC checks\n%s\nwant\n%s", c.env, strings.Join(nics, "\n"), c.want)
		}
	}
}
