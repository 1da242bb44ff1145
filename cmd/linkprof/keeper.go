package main

import (
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/linkprof/linkprof/metrics"
	"github.com/linkprof/linkprof/pipeline"
	"github.com/linkprof/linkprof/report"
)

// folderKeeper analyses the folders a continuous recording closes, one at
// a time off the recorder's goroutines, and hands each report to the
// metrics; the recorder itself removes the oldest folders (--keep).
type folderKeeper struct {
	analyze bool
	metrics *metrics.Metrics // nil: no --metrics
	server  *metrics.Server
	queue   chan closedFolder
	done    chan struct{}
}

type closedFolder struct {
	dir string
	at  time.Time
}

// maxQueuedFolders bounds the closed folders waiting for analysis, whatever
// --keep says (a huge --keep keeps every folder: a slot per folder would
// not fit in memory). An analysis that far behind will not catch up.
const maxQueuedFolders = 1024

func newFolderKeeper(analyze bool, keep int) *folderKeeper {
	return &folderKeeper{analyze: analyze, queue: make(chan closedFolder, min(keep, maxQueuedFolders)), done: make(chan struct{})}
}

// closed takes a folder the recorder just closed (Config.OnRotate). It
// never blocks the recorder: with analyses --keep (at most
// maxQueuedFolders) folders behind, the folder stays unanalysed (linkprof
// report analyses it later).
func (k *folderKeeper) closed(dir string) {
	select {
	case k.queue <- closedFolder{dir, time.Now()}:
	default:
		slog.Warn("continuous mode: analysis is behind; folder left unanalysed (linkprof report DIR analyses it)", "dir", dir)
	}
}

func (k *folderKeeper) run() {
	defer close(k.done)
	for c := range k.queue {
		k.analyzeFolder(c)
	}
}

// analyzeFolder writes a closed folder's outputs and counts its report.
func (k *folderKeeper) analyzeFolder(c closedFolder) {
	if !k.analyze {
		return
	}
	if _, err := os.Stat(c.dir); errors.Is(err, os.ErrNotExist) {
		slog.Warn("continuous mode: analysis is behind; folder removed by --keep before it was analysed", "dir", c.dir)
		return
	}
	began := time.Now()
	if err := pipeline.WriteAll(c.dir, true); err != nil {
		slog.Warn("continuous mode: analysing a closed folder (the trace is intact: linkprof report DIR)", "dir", c.dir, "err", err)
		k.countFailure()
		return
	}
	slog.Info("analysed", "dir", c.dir, "took", time.Since(began).Round(time.Millisecond))
	k.count(c, time.Since(began))
}

// count hands a folder's report to the metrics.
func (k *folderKeeper) count(c closedFolder, took time.Duration) {
	if k.metrics == nil {
		return
	}
	rep, err := report.Load(filepath.Join(c.dir, pipeline.JSONFile))
	if err != nil {
		slog.Warn("metrics: reading the report", "dir", c.dir, "err", err)
		k.countFailure()
		return
	}
	k.metrics.Analyzed(rep, c.at, took)
}

func (k *folderKeeper) countFailure() {
	if k.metrics != nil {
		k.metrics.AnalysisFailed()
	}
}

// finish waits for the closed folders' analyses, then analyses the last
// folder as a recording without rotation is.
func (k *folderKeeper) finish(last string) error {
	close(k.queue)
	<-k.done
	if !k.analyze {
		return nil
	}
	began := time.Now()
	if err := analyzeRecording(last); err != nil {
		k.countFailure()
		return err
	}
	k.count(closedFolder{last, began}, time.Since(began))
	return nil
}

// close stops serving the metrics.
func (k *folderKeeper) close() {
	if k.server != nil {
		k.server.Close()
	}
}
