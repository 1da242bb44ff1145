package collect

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sort"
	"syscall"
	"time"
)

// proc is a child started in its own process group, so stopping it stops
// every process it spawned (the tensor-parallel workers) and the terminal's
// Ctrl-C reaches linkprof alone, which then stops things in order.
type proc struct {
	name string
	cmd  *exec.Cmd
	done chan struct{}
	err  error // valid once done is closed
}

func startProc(name string, cmd *exec.Cmd, env map[string]string, log io.Writer) (*proc, error) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if cmd.Stdout == nil {
		cmd.Stdout = log
	}
	if cmd.Stderr == nil {
		cmd.Stderr = log
	}
	if len(env) > 0 {
		cmd.Env = append(os.Environ(), envList(env)...)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	p := &proc{name: name, cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

func envList(env map[string]string) []string {
	list := make([]string, 0, len(env))
	for k, v := range env {
		list = append(list, k+"="+v)
	}
	sort.Strings(list)
	return list
}

func (p *proc) pid() int { return p.cmd.Process.Pid }

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop sends SIGINT to the process group, then SIGTERM and SIGKILL after
// grace each, waits for the rest of the group (reapGroup), and returns how
// the leader ended. An exit caused by our own signal is not an error.
func (p *proc) stop(grace time.Duration) error {
	var sent syscall.Signal
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGKILL} {
		if p.exited() {
			break
		}
		sent = sig
		_ = syscall.Kill(-p.pid(), sig)
		select {
		case <-p.done:
		case <-time.After(grace):
		}
	}
	<-p.done
	// Workers that outlived the leader go with the group: none may
	// outlive the collection.
	reapErr := reapGroup(p.pid(), grace)
	if sent == syscall.SIGKILL {
		return errors.Join(fmt.Errorf("%s ignored SIGINT and SIGTERM for %v each: killed", p.name, grace), reapErr)
	}
	if reapErr != nil {
		return fmt.Errorf("%s: %w", p.name, reapErr)
	}
	var ee *exec.ExitError
	if errors.As(p.err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && (ws.Signaled() || ws.ExitStatus() == 130) {
			return nil
		}
	}
	if p.err != nil {
		return fmt.Errorf("%s: %w", p.name, p.err)
	}
	return nil
}
