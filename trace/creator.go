package trace

import (
	"errors"
	"fmt"
	"io/fs"
	"runtime"

	"golang.org/x/sys/unix"
)

// creator is the file-system identity that folders and files are created
// with; nil: linkprof's own.
var creator *identity

type identity struct{ uid, gid int }

// CreateAs makes every later PrepareDir, CreateFile and WriteFile act as
// user uid, group gid, with no supplementary groups (under sudo: the
// invoking user). The kernel then checks that user's permissions on the way
// (a symbolic link in the path leads only where the user could write), and
// what is created belongs to the user from birth: nothing already there is
// ever chowned. Call it once, before anything is created.
func CreateAs(uid, gid uint32) { creator = &identity{int(uid), int(gid)} }

// asCreator runs fn with the creator's identity. Linux keeps credentials
// per thread: fn runs on a thread of its own, locked and never unlocked,
// so the thread ends with its goroutine and no other code runs with the
// changed identity.
func asCreator(fn func() error) error {
	id := creator
	if id == nil {
		return fn()
	}
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		if err := id.assume(); err != nil {
			done <- err
			return
		}
		err := fn()
		if errors.Is(err, fs.ErrPermission) {
			err = fmt.Errorf("%w (created as uid %d, the user who ran sudo)", err, id.uid)
		}
		done <- err
	}()
	return <-done
}

// assume switches the calling thread's file-system identity: groups first,
// while the thread may still change them.
func (id *identity) assume() error {
	if err := unix.Setgroups(nil); err != nil {
		return fmt.Errorf("dropping supplementary groups: %w", err)
	}
	unix.SetfsgidRetGid(id.gid)
	unix.SetfsuidRetUid(id.uid)
	// setfsuid and setfsgid report no failure: read the ids back.
	gid, _ := unix.SetfsgidRetGid(-1)
	uid, _ := unix.SetfsuidRetUid(-1)
	if uid != id.uid || gid != id.gid {
		return fmt.Errorf("creating files as %d:%d: the file-system identity stayed %d:%d", id.uid, id.gid, uid, gid)
	}
	return nil
}
