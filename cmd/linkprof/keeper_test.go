package main

import (
	"bytes"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A closed folder --keep removed before its analysis came is never
// silently skipped: a warning names it (docs/fleet.md says so).
func TestKeeperWarnsOfFolderRemovedUnanalysed(t *testing.T) {
	var logs bytes.Buffer
	was := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&logs, nil)))
	defer slog.SetDefault(was)
	gone := filepath.Join(t.TempDir(), "20260101-000000.000")
	k := newFolderKeeper(true, 2)
	k.analyzeFolder(closedFolder{gone, time.Now()})
	if out := logs.String(); !strings.Contains(out, "level=WARN") || !strings.Contains(out, gone) {
		t.Errorf("log %q: want a warning naming %s", out, gone)
	}
}

// A huge --keep (keep every folder) is accepted without reserving a queue
// slot per folder: 1e11 slots ran linkprof out of memory at start.
func TestKeeperQueueBoundedForHugeKeep(t *testing.T) {
	k := newFolderKeeper(true, 100_000_000_000)
	if c := cap(k.queue); c > maxQueuedFolders {
		t.Errorf("queue of %d folders, want at most %d", c, maxQueuedFolders)
	}
}
