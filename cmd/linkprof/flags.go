package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"

	"github.com/spf13/pflag"
)

// errHelp ends a command after -h printed its flags.
var errHelp = errors.New("help requested")

// newFlags makes a command's flag set with the shared -v flag.
func newFlags(name string) *pflag.FlagSet {
	fs := pflag.NewFlagSet(name, pflag.ContinueOnError)
	fs.SortFlags = false
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	fs.CountP("verbose", "v", "log more (-v: debug)")
	return fs
}

// parseFlags parses args, turning mistakes into usage errors and -h into help.
func parseFlags(fs *pflag.FlagSet, usage string, args []string) error {
	err := fs.Parse(args)
	if errors.Is(err, pflag.ErrHelp) {
		fmt.Printf("usage: linkprof %s\n\n%s", usage, fs.FlagUsages())
		return errHelp
	}
	if err != nil {
		return usagef("%s: %v (see linkprof %s -h)", fs.Name(), err, fs.Name())
	}
	if v, _ := fs.GetCount("verbose"); v > 0 {
		logLevel.Set(slog.LevelDebug)
	}
	return nil
}

// writeJSON prints v indented, as every --json of linkprof does.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
