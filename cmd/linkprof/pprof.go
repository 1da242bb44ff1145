package main

import (
	"fmt"
	"path/filepath"

	"github.com/linkprof/linkprof/pipeline"
	"github.com/linkprof/linkprof/trace"
)

const pprofUsage = "pprof DIR [-o FILE]"

func init() {
	register(command{name: "pprof", summary: "write the pprof profile of NVLink bytes by collective and stack", run: runPprof})
}

func runPprof(args []string) error {
	fs := newFlags("pprof")
	out := fs.StringP("output", "o", "", "profile file (default DIR/"+pipeline.ProfileFile+")")
	force := fs.Bool("force", false, "replace an existing file")
	af := addAnalysisFlags(fs)
	dir, err := oneDir(fs, pprofUsage, args)
	if err != nil {
		return err
	}
	opts, err := af.options()
	if err != nil {
		return err
	}
	res, err := pipeline.Run(dir, opts, nil)
	if err != nil {
		return err
	}
	path := outPath(*out, dir, pipeline.ProfileFile)
	f, err := trace.CreateFile(filepath.Dir(path), filepath.Base(path), *force)
	if err != nil {
		return err
	}
	if err := res.Profile.Write(f); err != nil {
		f.Close()
		return fmt.Errorf("writing profile: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("closing profile: %w", err)
	}
	fmt.Printf("wrote %s (view: go tool pprof -top %s)\n", path, path)
	return nil
}

// outPath is -o when given, else the default file inside the folder.
func outPath(flag, dir, name string) string {
	if flag != "" {
		return flag
	}
	return filepath.Join(dir, name)
}
