package main

import (
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/spf13/pflag"

	"github.com/linkprof/linkprof/nic"
	"github.com/linkprof/linkprof/profiler"
)

// nicFlags configure network device sampling for record (package nic).
type nicFlags struct {
	spec string
	hz   float64
	root string // the sysfs tree: tests point it at a fake one
	// sampler is the one record opened: its Latest counters are the live
	// view a metrics endpoint can serve.
	sampler *nic.Sampler
}

func (n *nicFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&n.spec, "nics", "auto", "network devices to sample: auto (IB ports, and the netdevs NCCL would use), none, or `NAMES` (eth0,mlx5_0,mlx5_1:1)")
	fs.Float64Var(&n.hz, "nic-hz", nic.DefaultHz, "network counter reads per second (all NICs in one round)")
	fs.StringVar(&n.root, "sysfs-root", "", "read network devices under `DIR` instead of /sys (tests)")
	_ = fs.MarkHidden("sysfs-root")
}

// check refuses a wrong --nics or --nic-hz before anything starts: a
// device named that is not there is a usage error.
func (n *nicFlags) check() error {
	spec, err := nic.ParseSpec(n.spec)
	if err == nil {
		err = nic.CheckHz(n.hz)
	}
	if err == nil && len(spec.Names) > 0 {
		_, err = n.pick(spec, nic.Env{})
	}
	if err != nil {
		return usageError{"record: " + err.Error()}
	}
	return nil
}

// open picks the devices and opens their counters. Under --nics auto a
// host whose devices cannot be listed records without them after a
// warning; devices named with --nics must be there.
func (n *nicFlags) open(cfg profiler.Config) (profiler.NICSampler, func(), error) {
	noop := func() {}
	spec, err := nic.ParseSpec(n.spec)
	if err != nil || spec.None() {
		return nil, noop, err
	}
	devs, err := n.pick(spec, targetsNCCLEnv(cfg))
	switch {
	case err != nil && spec.Auto:
		slog.Warn("no network counters (" + err.Error() + "): recording without them")
		return nil, noop, nil
	case err != nil:
		return nil, noop, usageError{"record: " + err.Error()}
	case len(devs) == 0:
		slog.Debug("no network device to sample")
		return nil, noop, nil
	}
	s, err := nic.Open(devs, nic.Config{Root: n.root, Hz: n.hz})
	if err != nil {
		return nil, noop, fmt.Errorf("opening network counters: %w", err)
	}
	n.sampler = s
	slog.Debug("sampling network devices", "nics", nicNames(devs))
	return s, func() { s.Close() }, nil
}

func (n *nicFlags) pick(spec nic.Spec, env nic.Env) ([]nic.Device, error) {
	all, err := nic.Discover(n.root)
	if err != nil {
		return nil, err
	}
	return nic.Select(all, spec, env)
}

// targetsNCCLEnv is what the targets' environments say about NCCL's
// network use: the launched command's, else the named processes' (read
// from /proc/PID/environ; children inherit it).
func targetsNCCLEnv(cfg profiler.Config) nic.Env {
	if len(cfg.Command) > 0 {
		env := cfg.CommandEnv
		if env == nil {
			env = os.Environ()
		}
		return nic.EnvOf(envMap(env))
	}
	pids := append([]uint32(nil), cfg.Pids...)
	if cfg.PidOf != "" {
		more, _ := profiler.PidsMatching(cfg.PidOf)
		pids = append(pids, more...)
	}
	var e nic.Env
	for _, pid := range pids {
		if info, err := profiler.ReadProcInfo(pid); err == nil {
			e = e.Merge(nic.EnvOf(info.Env))
		}
	}
	return e
}

func envMap(env []string) map[string]string {
	m := map[string]string{}
	for _, kv := range env {
		if k, v, ok := strings.Cut(kv, "="); ok {
			m[k] = v
		}
	}
	return m
}

func nicNames(devs []nic.Device) string {
	var s []string
	for _, d := range devs {
		s = append(s, d.Name)
	}
	return strings.Join(s, ",")
}
