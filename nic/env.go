package nic

import "strings"

// Env is what the targets' environments say about NCCL's network use:
// the variables NCCL reads to pick its transport and interfaces.
type Env struct {
	// SocketIfname is NCCL_SOCKET_IFNAME: the interfaces its socket
	// transport (and bootstrap) may use ("" unset).
	SocketIfname string
	// NoIB: NCCL_NET=Socket or NCCL_IB_DISABLE=1, NCCL will not use IB
	// verbs.
	NoIB bool
	// NetBetweenLocalRanks: NCCL_P2P_DISABLE (or NCCL_P2P_LEVEL=LOC) and
	// NCCL_SHM_DISABLE, so ranks on one host talk through the network
	// transport (over lo with sockets: the kernel routes a host's own
	// addresses through lo, whatever interface holds them).
	NetBetweenLocalRanks bool
}

// EnvKeys are the variables EnvOf reads.
var EnvKeys = []string{"NCCL_SOCKET_IFNAME", "NCCL_NET", "NCCL_IB_DISABLE", "NCCL_P2P_DISABLE", "NCCL_P2P_LEVEL",
	"NCCL_SHM_DISABLE"}

// EnvOf reads one process's variables (missing keys are unset).
func EnvOf(vars map[string]string) Env {
	return Env{
		SocketIfname:         vars["NCCL_SOCKET_IFNAME"],
		NoIB:                 strings.EqualFold(vars["NCCL_NET"], "Socket") || isOne(vars["NCCL_IB_DISABLE"]),
		NetBetweenLocalRanks: P2POff(vars) && isOne(vars["NCCL_SHM_DISABLE"]),
	}
}

// P2POff reports whether NCCL's P2P transport (NVLink, PCIe peer access)
// is off in an environment: NCCL_P2P_DISABLE=1, or NCCL_P2P_LEVEL=LOC
// (or 0), which allows P2P on no path.
func P2POff(vars map[string]string) bool {
	lvl := strings.ToUpper(strings.TrimSpace(vars["NCCL_P2P_LEVEL"]))
	return isOne(vars["NCCL_P2P_DISABLE"]) || lvl == "LOC" || lvl == "0"
}

// SHMOff reports whether NCCL's shared-memory transport is off.
func SHMOff(vars map[string]string) bool { return isOne(vars["NCCL_SHM_DISABLE"]) }

func isOne(v string) bool { return strings.TrimSpace(v) == "1" }

// Merge joins the environments of several targets: any target's reason to
// sample a device counts.
func (e Env) Merge(o Env) Env {
	if e.SocketIfname == "" {
		e.SocketIfname = o.SocketIfname
	}
	e.NoIB = e.NoIB || o.NoIB
	e.NetBetweenLocalRanks = e.NetBetweenLocalRanks || o.NetBetweenLocalRanks
	return e
}

// MatchIfname applies NCCL's NCCL_SOCKET_IFNAME rules to an interface
// name: a comma-separated list of name prefixes ("eth,ib"), exact names
// after a leading "=" ("=eth0"), or names to avoid after a leading "^"
// ("^docker,lo"); a ":port" after a name is ignored.
func MatchIfname(spec, name string) bool {
	exclude := strings.HasPrefix(spec, "^")
	spec = strings.TrimPrefix(spec, "^")
	exact := strings.HasPrefix(spec, "=")
	spec = strings.TrimPrefix(spec, "=")
	hit := false
	for _, e := range strings.Split(spec, ",") {
		e, _, _ = strings.Cut(strings.TrimSpace(e), ":")
		if e != "" && (exact && name == e || !exact && strings.HasPrefix(name, e)) {
			hit = true
		}
	}
	return hit != exclude
}

// namesLoopback reports whether an inclusion list of NCCL_SOCKET_IFNAME
// picks lo: NCCL uses lo only when told to.
func namesLoopback(spec string) bool {
	return spec != "" && !strings.HasPrefix(spec, "^") && MatchIfname(spec, "lo")
}
