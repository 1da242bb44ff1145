package main

import (
	"fmt"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"strconv"

	"github.com/linkprof/linkprof/profiler"
)

// commandUser decides who a launched command runs as: --user, else the
// user who ran sudo, else linkprof's own user. linkprof needs root; the
// program it launches does not.
func commandUser(name string, launching bool) (*profiler.Credential, error) {
	if name != "" {
		if !launching {
			return nil, usagef("record: --user applies only to a launched command (-- CMD)")
		}
		u, err := user.Lookup(name)
		if err != nil {
			return nil, usagef("record: --user %s: %v", name, err)
		}
		return credential(u.Uid, u.Gid)
	}
	uid, gid := os.Getenv("SUDO_UID"), os.Getenv("SUDO_GID")
	if !launching || uid == "" || gid == "" || os.Geteuid() != 0 {
		return nil, nil
	}
	return credential(uid, gid)
}

func credential(uid, gid string) (*profiler.Credential, error) {
	u, err1 := strconv.ParseUint(uid, 10, 32)
	g, err2 := strconv.ParseUint(gid, 10, 32)
	if err1 != nil || err2 != nil {
		return nil, fmt.Errorf("bad user or group id %q:%q", uid, gid)
	}
	return &profiler.Credential{Uid: uint32(u), Gid: uint32(g)}, nil
}

// chownToCaller gives a recording folder made under sudo to the user who
// ran sudo, so they can read, move and delete it without root.
func chownToCaller(dir string) error {
	cred, err := credential(os.Getenv("SUDO_UID"), os.Getenv("SUDO_GID"))
	if err != nil || os.Geteuid() != 0 {
		return nil // not under sudo
	}
	return filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(path, int(cred.Uid), int(cred.Gid))
	})
}
