package trace

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"time"
)

// rotatedLayout names the folders of a continuous recording by the UTC
// time each began, to the millisecond: they sort by name in time order.
const rotatedLayout = "20060102-150405.000"

// rotatedName matches the names RotatedDir gives, and nothing else: the
// only folders a continuous recording ever removes.
var rotatedName = regexp.MustCompile(`^\d{8}-\d{6}\.\d{3}$`)

// RotatedDir names the folder of a continuous recording under parent that
// begins at t.
func RotatedDir(parent string, t time.Time) string {
	return filepath.Join(parent, t.UTC().Format(rotatedLayout))
}

// IsRotatedName reports whether a folder name is one RotatedDir gives.
func IsRotatedName(name string) bool { return rotatedName.MatchString(name) }

// Frame is one record to write as it is.
type Frame struct {
	Type    RecordType
	Payload []byte
}

// JSONFrame encodes v as a metadata record of type t.
func JSONFrame(t RecordType, v any) (Frame, error) {
	payload, err := json.Marshal(v)
	if err != nil {
		return Frame{}, fmt.Errorf("encoding %T: %w", v, err)
	}
	return Frame{t, payload}, nil
}

// Rotation says how Writer.Rotate ends one trace and begins the next. Both
// functions run under the writer's lock, so nothing written concurrently
// falls between them: they must be quick and must not write.
type Rotation struct {
	// Tail gives the records that end the current trace (its Stop last),
	// given how many events it holds.
	Tail func(events uint64) []Frame
	// Head gives the records and samples that begin the next trace (its
	// Start first), before any data written after the switch. They reach
	// no tap: they repeat what was tapped once already.
	Head func() ([]Frame, []Sample)
}

// Rotate ends the current trace with r.Tail's records, closes it and goes
// on in a new trace in dir (created as Create does, never into a used
// folder) that begins with r.Head's. Every event and sample written before
// the switch is in the old trace, every one after it in the new: none is
// lost or written twice. When dir cannot be made, the writer goes on in
// the current trace and switched is false. An error closing the old trace
// comes with switched true: the new trace is in use all the same.
func (w *Writer) Rotate(dir string, r Rotation) (switched bool, err error) {
	if err := PrepareDir(dir, false); err != nil {
		return false, err
	}
	f, err := CreateFile(dir, FileName, false)
	if err != nil {
		return false, err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.flushBatches()
	for _, fr := range r.Tail(w.nEvents) {
		w.frame(fr.Type, fr.Payload)
	}
	closeErr := w.closeFile()
	w.open(f)
	head, samples := r.Head()
	for _, fr := range head {
		w.frame(fr.Type, fr.Payload)
	}
	for _, s := range samples {
		w.samples = AppendSample(w.samples, s)
	}
	w.flushBatches()
	if closeErr != nil {
		return true, fmt.Errorf("closing the rotated trace: %w", closeErr)
	}
	return true, w.err
}

// closeFile flushes and closes the current file; the caller holds the lock.
func (w *Writer) closeFile() error {
	err := w.err
	if err == nil {
		if ferr := w.buf.Flush(); ferr != nil {
			err = fmt.Errorf("writing trace: %w", ferr)
		}
	}
	if cerr := w.f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("closing trace: %w", cerr)
	}
	return err
}

// PruneRotated removes the oldest folders under parent that RotatedDir
// named, leaving the newest keep. Nothing else under parent is touched,
// and a symbolic link is never followed (os.RemoveAll removes the link).
// spare (a folder path, "" none) is never removed and counts toward keep:
// the folder being written, which after the wall clock stepped back is
// not the newest by name.
func PruneRotated(parent string, keep int, spare string) (removed []string, err error) {
	ents, err := os.ReadDir(parent)
	if err != nil {
		return nil, fmt.Errorf("listing %s: %w", parent, err)
	}
	var names []string
	spared := 0
	for _, e := range ents {
		if !e.IsDir() || e.Type()&os.ModeSymlink != 0 || !IsRotatedName(e.Name()) {
			continue
		}
		if spare != "" && filepath.Join(parent, e.Name()) == filepath.Clean(spare) {
			spared = 1
			continue
		}
		names = append(names, e.Name())
	}
	sort.Strings(names) // oldest first
	for len(names)+spared > max(keep, 0) && len(names) > 0 {
		dir := filepath.Join(parent, names[0])
		names = names[1:]
		if err := os.RemoveAll(dir); err != nil {
			return removed, fmt.Errorf("removing %s: %w", dir, err)
		}
		removed = append(removed, dir)
	}
	return removed, nil
}
