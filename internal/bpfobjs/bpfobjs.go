// Package bpfobjs lists the BPF objects a process holds and tells whether
// the kernel still has them. Tests use it to prove that linkprof leaves no
// program, map or uprobe link behind, however it exits.
package bpfobjs

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
)

// Object is one BPF program, map or link.
type Object struct {
	Kind string // prog, map, link
	ID   uint32
}

func (o Object) String() string { return fmt.Sprintf("%s %d", o.Kind, o.ID) }

// Held lists the BPF objects pid holds open, from /proc/PID/fdinfo.
func Held(pid int) ([]Object, error) {
	ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fdinfo", pid))
	if err != nil {
		return nil, fmt.Errorf("listing fds of pid %d: %w", pid, err)
	}
	var objs []Object
	for _, e := range ents {
		info, err := os.ReadFile(fmt.Sprintf("/proc/%d/fdinfo/%s", pid, e.Name()))
		if err != nil {
			continue // closed meanwhile
		}
		if o, ok := parseFdinfo(string(info)); ok {
			objs = append(objs, o)
		}
	}
	return objs, nil
}

// parseFdinfo finds the prog_id, map_id or link_id line of a BPF fd.
func parseFdinfo(info string) (Object, bool) {
	for _, line := range strings.Split(info, "\n") {
		key, val, ok := strings.Cut(line, ":")
		kind, isID := strings.CutSuffix(key, "_id")
		if !ok || !isID || (kind != "prog" && kind != "map" && kind != "link") {
			continue
		}
		if id, err := strconv.ParseUint(strings.TrimSpace(val), 10, 32); err == nil {
			return Object{kind, uint32(id)}, true
		}
	}
	return Object{}, false
}

// Exists reports whether the kernel still has the object.
func Exists(o Object) bool {
	var err error
	switch o.Kind {
	case "prog":
		var p *ebpf.Program
		if p, err = ebpf.NewProgramFromID(ebpf.ProgramID(o.ID)); err == nil {
			p.Close()
		}
	case "map":
		var m *ebpf.Map
		if m, err = ebpf.NewMapFromID(ebpf.MapID(o.ID)); err == nil {
			m.Close()
		}
	case "link":
		var l link.Link
		if l, err = link.NewFromID(link.ID(o.ID)); err == nil {
			l.Close()
		}
	}
	return err == nil
}

// WaitGone waits up to timeout for the kernel to free every object (it
// frees them an RCU grace period after the last reference goes) and
// returns those still there.
func WaitGone(objs []Object, timeout time.Duration) []Object {
	var alive []Object
	for deadline := time.Now().Add(timeout); ; time.Sleep(20 * time.Millisecond) {
		alive = alive[:0]
		for _, o := range objs {
			if Exists(o) {
				alive = append(alive, o)
			}
		}
		if len(alive) == 0 || time.Now().After(deadline) {
			return alive
		}
	}
}
