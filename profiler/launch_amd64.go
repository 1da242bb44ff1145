package profiler

import (
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"syscall"
)

// startGated starts cmd under ptrace, runs it to its ELF entry point (the
// dynamic loader has mapped every DT_NEEDED library by then, and none of the
// program's own code has run), calls ready, and detaches. So a program that
// links NCCL at build time loses no collective, not even in main's first line.
func startGated(cmd *exec.Cmd, ready func(pid uint32) error) error {
	// ptrace requests must come from the thread that attached.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	cmd.SysProcAttr.Ptrace = true
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting command: %w", err)
	}
	pid := cmd.Process.Pid
	if err := runToEntry(pid); err != nil {
		_ = cmd.Process.Kill()
		return fmt.Errorf("stopping command at its entry point: %w", err)
	}
	readyErr := ready(uint32(pid))
	if err := syscall.PtraceDetach(pid); err != nil {
		return fmt.Errorf("releasing command: %w", err)
	}
	return readyErr
}

// runToEntry continues a process stopped at exec until it reaches AT_ENTRY,
// using a one-shot int3 breakpoint that it then removes.
func runToEntry(pid int) error {
	if err := waitStopped(pid); err != nil {
		return err
	}
	entry, err := auxEntry(pid)
	if err != nil {
		return err
	}
	orig := make([]byte, 8)
	if _, err := syscall.PtracePeekData(pid, uintptr(entry), orig); err != nil {
		return fmt.Errorf("reading entry code: %w", err)
	}
	patched := append([]byte{0xCC}, orig[1:]...)
	if _, err := syscall.PtracePokeData(pid, uintptr(entry), patched); err != nil {
		return fmt.Errorf("placing entry breakpoint: %w", err)
	}
	if err := syscall.PtraceCont(pid, 0); err != nil {
		return fmt.Errorf("continuing to entry: %w", err)
	}
	if err := waitStopped(pid); err != nil {
		return err
	}
	if _, err := syscall.PtracePokeData(pid, uintptr(entry), orig); err != nil {
		return fmt.Errorf("removing entry breakpoint: %w", err)
	}
	var regs syscall.PtraceRegs
	if err := syscall.PtraceGetRegs(pid, &regs); err != nil {
		return fmt.Errorf("reading registers: %w", err)
	}
	if regs.Rip != entry+1 {
		return fmt.Errorf("stopped at %#x, not at the entry point %#x", regs.Rip, entry)
	}
	regs.Rip = entry
	if err := syscall.PtraceSetRegs(pid, &regs); err != nil {
		return fmt.Errorf("rewinding to entry: %w", err)
	}
	return nil
}

func waitStopped(pid int) error {
	var ws syscall.WaitStatus
	if _, err := syscall.Wait4(pid, &ws, syscall.WALL, nil); err != nil {
		return fmt.Errorf("waiting for command: %w", err)
	}
	if !ws.Stopped() {
		return fmt.Errorf("command ended before it started (status %v)", ws)
	}
	return nil
}

// auxEntry reads AT_ENTRY (9) from /proc/PID/auxv.
func auxEntry(pid int) (uint64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/auxv", pid))
	if err != nil {
		return 0, fmt.Errorf("reading auxv: %w", err)
	}
	const atEntry = 9
	for i := 0; i+16 <= len(data); i += 16 {
		if binary.LittleEndian.Uint64(data[i:]) == atEntry {
			return binary.LittleEndian.Uint64(data[i+8:]), nil
		}
	}
	return 0, fmt.Errorf("no AT_ENTRY in auxv of pid %d", pid)
}
