package main

import (
	"fmt"
	"os"
	"os/user"
	"slices"
	"strconv"
	"strings"

	"github.com/linkprof/linkprof/profiler"
	"github.com/linkprof/linkprof/trace"
)

// launchIdentity is the user a launched command runs as (commandUser) and
// its environment (commandEnv).
func launchIdentity(name string, launching bool) (*profiler.Credential, []string, error) {
	cred, err := commandUser(name, launching)
	if err != nil {
		return nil, nil, err
	}
	env, err := commandEnv(cred)
	return cred, env, err
}

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

// createAsCaller makes everything linkprof creates under sudo the invoking
// user's, created with that user's permissions (trace.CreateAs): nothing is
// chowned afterwards, so nothing already in a folder changes owner.
func createAsCaller() error {
	uid, gid := os.Getenv("SUDO_UID"), os.Getenv("SUDO_GID")
	if os.Geteuid() != 0 || uid == "" || gid == "" {
		return nil // not under sudo
	}
	cred, err := credential(uid, gid)
	if err != nil {
		return fmt.Errorf("reading sudo's caller: %w", err)
	}
	if cred.Uid != 0 {
		trace.CreateAs(cred.Uid, cred.Gid)
	}
	return nil
}

// commandEnv is linkprof's environment with the HOME, USER and LOGNAME of
// the user a launched command runs as, as sudo -u sets them; nil (linkprof's
// own) when the command runs as linkprof's user.
func commandEnv(cred *profiler.Credential) ([]string, error) {
	if cred == nil {
		return nil, nil
	}
	u, err := user.LookupId(strconv.FormatUint(uint64(cred.Uid), 10))
	if err != nil {
		return nil, fmt.Errorf("looking up the launched command's user: %w", err)
	}
	env := slices.DeleteFunc(os.Environ(), func(kv string) bool {
		key, _, _ := strings.Cut(kv, "=")
		return key == "HOME" || key == "USER" || key == "LOGNAME"
	})
	return append(env, "HOME="+u.HomeDir, "USER="+u.Username, "LOGNAME="+u.Username), nil
}
