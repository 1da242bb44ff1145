// Command linkprof attributes NVLink traffic to the NCCL collectives of live
// processes. See README.md.
package main

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sort"
	"strings"
)

// Exit codes (docs/design.md).
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

// command is one subcommand. Each lives in its own file and registers
// itself from init.
type command struct {
	name    string
	summary string
	run     func(args []string) error
}

var commands = map[string]command{}

func register(c command) { commands[c.name] = c }

// usageError is a mistake on the command line: exit code 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return usageError{fmt.Sprintf(format, args...)}
}

// logLevel is raised by -v on any subcommand.
var logLevel = new(slog.LevelVar)

func main() { os.Exit(run(os.Args[1:], os.Stderr)) }

// run dispatches to a subcommand. Help asked for (-h, --help, help, help
// CMD) goes to stdout and exits 0; no command at all is a usage error,
// the usage on stderr.
func run(args []string, stderr io.Writer) int {
	slog.SetDefault(slog.New(newLineHandler(stderr, logLevel)))
	if len(args) == 0 {
		printUsage(stderr)
		return exitUsage
	}
	if args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		if len(args) > 1 && args[0] == "help" {
			return help(args[1], stderr)
		}
		printUsage(os.Stdout)
		return exitOK
	}
	if args[0] == "version" || args[0] == "--version" {
		fmt.Fprintln(os.Stdout, "linkprof", version)
		return exitOK
	}
	cmd, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "linkprof: unknown command %q (run linkprof help)\n", args[0])
		return exitUsage
	}
	// Under sudo, every folder and file a command makes (a recording,
	// collect's card.yaml, a profile) belongs to the invoking user.
	if err := createAsCaller(); err != nil {
		return exitCode(err, stderr)
	}
	return exitCode(cmd.run(args[1:]), stderr)
}

// help prints one command's usage and flags, as CMD -h does.
func help(name string, stderr io.Writer) int {
	cmd, ok := commands[name]
	if !ok || strings.HasPrefix(name, "__") {
		fmt.Fprintf(stderr, "linkprof: unknown command %q (run linkprof help)\n", name)
		return exitUsage
	}
	return exitCode(cmd.run([]string{"-h"}), stderr)
}

func exitCode(err error, stderr io.Writer) int {
	if err == nil || errors.Is(err, errHelp) {
		return exitOK
	}
	fmt.Fprintln(stderr, "linkprof:", oneLine(err.Error()))
	var ue usageError
	if errors.As(err, &ue) {
		return exitUsage
	}
	var ce exitStatusError
	if errors.As(err, &ce) {
		return ce.code
	}
	return exitFailure
}

// exitStatusError carries a specific exit code (e.g. a launched command's).
type exitStatusError struct {
	code int
	msg  string
}

func (e exitStatusError) Error() string { return e.msg }

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func printUsage(w io.Writer) {
	fmt.Fprintln(w, "usage: linkprof COMMAND [flags] [args]")
	fmt.Fprintln(w, "\ncommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		if !strings.HasPrefix(n, "__") { // internal helpers, not for users
			names = append(names, n)
		}
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-10s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w, "\nrun linkprof help COMMAND (or linkprof COMMAND -h) for its flags")
}
