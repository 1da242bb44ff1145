package nic

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/linkprof/linkprof/trace"
)

// Spec is the --nics flag: auto, none, or a list of devices.
type Spec struct {
	Auto  bool
	Names []string // netdev names, IB devices (every port) or DEV:PORT
}

// ParseSpec reads --nics: "auto", "none", or a comma-separated list.
func ParseSpec(s string) (Spec, error) {
	switch s = strings.TrimSpace(s); s {
	case "auto":
		return Spec{Auto: true}, nil
	case "none", "":
		return Spec{}, nil
	}
	var names []string
	for _, n := range strings.Split(s, ",") {
		n = strings.TrimSpace(n)
		if n == "" || n == "auto" || n == "none" {
			return Spec{}, fmt.Errorf("--nics %q: give auto, none, or device names separated by commas", s)
		}
		names = append(names, n)
	}
	return Spec{Names: names}, nil
}

// None reports whether nothing is to be sampled.
func (s Spec) None() bool { return !s.Auto && len(s.Names) == 0 }

// Select picks the devices to sample and numbers them (NIC.Index), each
// with the reason it was picked. A name that matches no device is an
// error naming the devices there are.
func Select(all []Device, spec Spec, env Env) ([]Device, error) {
	var out []Device
	if spec.Auto {
		out = autoSelect(all, env)
	} else {
		for _, name := range spec.Names {
			picked := byName(all, name)
			if len(picked) == 0 {
				return nil, fmt.Errorf("--nics: no network device %q (there are: %s)", name, names(all))
			}
			for _, d := range picked {
				if !slices.ContainsFunc(out, func(o Device) bool { return o.Name == d.Name }) {
					d.SelectedBy = "--nics"
					out = append(out, d)
				}
			}
		}
	}
	for i := range out {
		out[i].Index = i
	}
	return out, nil
}

// byName finds a netdev by name, an IB port by DEV:PORT, or every port of
// an IB device by DEV.
func byName(all []Device, name string) []Device {
	var out []Device
	for _, d := range all {
		if d.Name == name || d.Kind == trace.NICKindIB && d.IBDevice == name {
			out = append(out, d)
		}
	}
	return out
}

func names(all []Device) string {
	if len(all) == 0 {
		return "none"
	}
	var s []string
	for _, d := range all {
		s = append(s, d.Name)
	}
	return strings.Join(s, ", ")
}

// autoSelect is --nics auto (docs/design.md, "Network links"): the active
// IB ports, unless NCCL is told not to use IB; the up netdevs
// NCCL_SOCKET_IFNAME names, else the up netdevs with hardware under them
// that are not an IB port's (whose traffic the port counts); and lo when
// NCCL_SOCKET_IFNAME names it or local ranks use the network transport.
func autoSelect(all []Device, env Env) []Device {
	var out []Device
	ibPorts := map[string]bool{}
	for _, d := range all {
		if d.Kind == trace.NICKindIB && d.Up && !env.NoIB {
			d.SelectedBy = "auto: IB port, active"
			out = append(out, d)
			ibPorts[d.IBDevice] = true
		}
	}
	for _, d := range all {
		if d.Kind != trace.NICKindNetdev || !d.Up {
			continue
		}
		if why := netdevReason(d, env, ibPorts); why != "" {
			d.SelectedBy = "auto: " + why
			out = append(out, d)
		}
	}
	return out
}

// netdevReason says why auto samples an up netdev, "" when it does not.
func netdevReason(d Device, env Env, ibPorts map[string]bool) string {
	loop := d.Name == "lo"
	switch {
	case loop && namesLoopback(env.SocketIfname):
		return "NCCL_SOCKET_IFNAME=" + env.SocketIfname
	case loop && env.NetBetweenLocalRanks:
		return "NCCL_P2P_DISABLE and NCCL_SHM_DISABLE: local ranks talk over the network transport, through lo"
	case loop:
		return ""
	case env.SocketIfname != "":
		if MatchIfname(env.SocketIfname, d.Name) {
			return "NCCL_SOCKET_IFNAME=" + env.SocketIfname
		}
		return ""
	case d.Virtual:
		return ""
	case ibPorts[d.RDMA]:
		return "" // NCCL's IB transport: the port's counters count it
	}
	return "up, not virtual" + speedNote(d)
}

func speedNote(d Device) string {
	if d.SpeedBps <= 0 {
		return ""
	}
	return ", " + strconv.FormatFloat(d.SpeedBps*8/1e9, 'g', 4, 64) + " Gb/s"
}
