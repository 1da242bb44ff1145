//go:build !amd64

package profiler

import (
	"fmt"
	"os/exec"
)

// startGated starts cmd and attaches right after. Untested off x86-64: calls
// made in the first moments of the program may be missed.
func startGated(cmd *exec.Cmd, ready func(pid uint32) error) error {
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting command: %w", err)
	}
	return ready(uint32(cmd.Process.Pid))
}
