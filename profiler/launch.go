package profiler

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"syscall"
)

// launched is a command linkprof started and records from its start.
type launched struct {
	cmd  *exec.Cmd
	done chan struct{}
	err  error // from Wait, valid after done is closed
}

// launch starts the command stopped, lets ready attach to it before it runs
// its own code (see startGated), then lets it run.
func launch(cfg Config, ready func(pid uint32) error) (*launched, error) {
	path, err := exec.LookPath(cfg.Command[0])
	if err != nil {
		return nil, fmt.Errorf("command %q: %w", cfg.Command[0], err)
	}
	cmd := exec.Command(path, cfg.Command[1:]...)
	cmd.Args[0] = cfg.Command[0]
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	if cfg.CommandOutput != nil {
		cmd.Stdout, cmd.Stderr = cfg.CommandOutput, cfg.CommandOutput
	}
	cmd.Env = cfg.CommandEnv
	cmd.SysProcAttr = &syscall.SysProcAttr{}
	if c := cfg.Credential; c != nil {
		cmd.SysProcAttr.Credential = &syscall.Credential{Uid: c.Uid, Gid: c.Gid}
	}
	if err := startGated(cmd, ready); err != nil {
		return nil, err
	}
	l := &launched{cmd: cmd, done: make(chan struct{})}
	go func() {
		l.err = cmd.Wait()
		close(l.done)
	}()
	return l, nil
}

// exitStatus returns the command's exit code (128+signal when killed).
func (l *launched) exitStatus() int {
	var ee *exec.ExitError
	if l.err == nil {
		return 0
	}
	if errors.As(l.err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return 128 + int(ws.Signal())
		}
		return ee.ExitCode()
	}
	return -1
}
