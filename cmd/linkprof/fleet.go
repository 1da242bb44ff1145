package main

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"time"

	"github.com/spf13/pflag"

	"github.com/linkprof/linkprof/metrics"
	"github.com/linkprof/linkprof/profiler"
)

// fleetFlags are record's flags for a recorder left running on a node of
// a GPU fleet (docs/fleet.md): continuous mode, watching for the engine's
// processes, live metrics.
type fleetFlags struct {
	rotate  time.Duration
	keep    int
	watch   bool
	metrics string
}

const (
	// defaultKeep with --rotate 10m keeps two hours.
	defaultKeep = 12
	// minRotate leaves each folder time to be analysed.
	minRotate = time.Second
)

func (f *fleetFlags) register(fs *pflag.FlagSet) {
	fs.DurationVar(&f.rotate, "rotate", 0,
		"continuous mode: start a new folder under -o DIR every `PERIOD` (e.g. 10m), analysing the one closed")
	fs.IntVar(&f.keep, "keep", defaultKeep, "with --rotate, keep the newest `N` folders (the open one counted), removing older ones")
	fs.BoolVar(&f.watch, "watch", false, "keep recording when the targets exit, and record processes that start matching --pid-of later")
	fs.StringVar(&f.metrics, "metrics", "", "serve Prometheus metrics at http://`ADDR`/metrics while recording (e.g. :9400)")
}

// check refuses fleet flags that are wrong or contradict the targets.
func (f *fleetFlags) check(fs *pflag.FlagSet, pidOf string, launch bool) error {
	cmd := fs.Name()
	switch {
	case f.rotate < 0:
		return usagef("%s: --rotate must be positive", cmd)
	case f.rotate > 0 && f.rotate < minRotate:
		return usagef("%s: --rotate %s is too short: at least %s (each folder is analysed when it closes)", cmd, f.rotate, minRotate)
	case fs.Changed("keep") && f.rotate == 0:
		return usagef("%s: --keep needs --rotate (one recording is one folder)", cmd)
	case f.keep < 2:
		return usagef("%s: --keep must be at least 2 (the open folder and the last closed one), got %d", cmd, f.keep)
	case f.watch && launch:
		return usagef("%s: --watch records processes as they start: give --pid-of, not a command to launch", cmd)
	case f.watch && pidOf == "":
		return usagef("%s: --watch needs --pid-of (what to watch for)", cmd)
	}
	return checkListenAddr(cmd, f.metrics)
}

// checkListenAddr refuses a --metrics address that cannot be listened on
// whatever the machine: no port, or a port out of range.
func checkListenAddr(cmd, addr string) error {
	if addr == "" {
		return nil
	}
	_, port, err := net.SplitHostPort(addr)
	if err == nil {
		var n uint64
		if n, err = strconv.ParseUint(port, 10, 16); err == nil && n == 0 {
			err = errors.New("port 0 is chosen at random: give the port Prometheus scrapes")
		}
	}
	if err != nil {
		return usagef("%s: --metrics %q: want HOST:PORT or :PORT (%v)", cmd, addr, err)
	}
	return nil
}

// apply sets the recorder's part of the flags.
func (f *fleetFlags) apply(cfg *profiler.Config) {
	cfg.Rotate, cfg.Watch = f.rotate, f.watch
	if f.rotate > 0 {
		cfg.Keep = f.keep
	}
}

// start serves the metrics (--metrics) and sets up what follows each
// folder: analysis, the metrics' attributed figures.
func (f *fleetFlags) start(cfg *profiler.Config, analyze bool) (*folderKeeper, error) {
	f.apply(cfg)
	k := newFolderKeeper(analyze, f.keep)
	if f.metrics != "" {
		k.metrics = metrics.New(version)
		srv, err := metrics.Serve(f.metrics, k.metrics)
		if err != nil {
			return nil, err
		}
		k.server = srv
		cfg.Observer = k.metrics
		fmt.Fprintf(os.Stderr, "linkprof: metrics at http://%s%s\n", srv.Addr(), metrics.Path)
		if f.rotate == 0 {
			fmt.Fprintf(os.Stderr, "linkprof: note: attributed bytes are analysed per folder: without --rotate they appear only when the recording stops\n")
		}
	}
	if f.rotate > 0 {
		cfg.OnRotate = k.closed
	}
	go k.run()
	return k, nil
}
