package trace

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// Events written while the writer rotates land in exactly one trace each;
// every trace begins with its head and ends with its tail; head records
// reach no tap.
func TestRotateLosesNothing(t *testing.T) {
	parent := t.TempDir()
	dirs := []string{filepath.Join(parent, "0")}
	w, err := Create(dirs[0], false)
	if err != nil {
		t.Fatal(err)
	}
	tapped := 0
	w.TapRecords(func(RecordType, any) { tapped++ })
	w.WriteJSON(RecStart, Start{Tool: "test"})

	const writers, perWriter = 4, 20000
	var wg sync.WaitGroup
	for g := range writers {
		wg.Go(func() {
			for i := range perWriter {
				w.WriteEvents(AppendEvent(nil, Event{Pid: uint32(g), Count: uint64(i), Kind: AllReduce}))
			}
		})
	}
	var stops []uint64
	for i := 1; i <= 5; i++ {
		time.Sleep(time.Millisecond)
		dir := filepath.Join(parent, string(rune('0'+i)))
		switched, err := w.Rotate(dir, Rotation{
			Tail: func(events uint64) []Frame {
				stops = append(stops, events)
				f, _ := JSONFrame(RecStop, Stop{Reason: "rotate", Events: events})
				return []Frame{f}
			},
			Head: func() ([]Frame, []Sample) {
				f, _ := JSONFrame(RecStart, Start{Tool: "test"})
				return []Frame{f}, []Sample{{GPU: 3, Flags: SampleOK, DataTxKiB: 7}}
			},
		})
		if err != nil || !switched {
			t.Fatalf("rotation %d: switched %v, %v", i, switched, err)
		}
		dirs = append(dirs, dir)
	}
	wg.Wait()
	w.WriteJSON(RecStop, Stop{Reason: "signal"})
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if tapped != 2 {
		t.Errorf("taps saw %d records, want 2 (the first Start and the last Stop; heads are not tapped)", tapped)
	}
	seen := map[[2]uint64]bool{}
	for i, dir := range dirs {
		recs := readAll(t, dir)
		if recs[0].Type != RecStart || recs[len(recs)-1].Type != RecStop {
			t.Errorf("%s: first record %d, last %d: want Start and Stop", dir, recs[0].Type, recs[len(recs)-1].Type)
		}
		var n uint64
		for _, rec := range recs {
			if rec.Type == RecSamples && i == 0 {
				t.Errorf("%s: the first trace got a head sample", dir)
			}
			if rec.Type != RecEvents {
				continue
			}
			rec.Events(func(e Event) {
				k := [2]uint64{uint64(e.Pid), e.Count}
				if seen[k] {
					t.Errorf("event %v written twice", k)
				}
				seen[k] = true
				n++
			})
		}
		if i < len(stops) && n != stops[i] {
			t.Errorf("%s holds %d events, its tail was told %d", dir, n, stops[i])
		}
	}
	if len(seen) != writers*perWriter {
		t.Errorf("%d distinct events over %d traces, want %d", len(seen), len(dirs), writers*perWriter)
	}
}

// A folder that cannot be made leaves the writer in its trace.
func TestRotateIntoUsedFolderKeepsWriting(t *testing.T) {
	dir, used := filepath.Join(t.TempDir(), "a"), t.TempDir()
	os.WriteFile(filepath.Join(used, "x"), nil, 0o644)
	w, err := Create(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	w.WriteJSON(RecStart, Start{Tool: "test"})
	never := func(uint64) []Frame { t.Error("tail asked for a rotation that cannot happen"); return nil }
	if switched, err := w.Rotate(used, Rotation{Tail: never}); switched || !errors.Is(err, ErrFolderUsed) {
		t.Errorf("rotating into a used folder: switched %v, %v, want ErrFolderUsed", switched, err)
	}
	w.WriteEvents(AppendEvent(nil, Event{Kind: AllReduce}))
	w.WriteJSON(RecStop, Stop{Reason: "signal"})
	w.Close()
	if recs := readAll(t, dir); len(recs) != 3 || recs[1].Type != RecEvents {
		t.Errorf("the trace goes on where it was: %d records", len(recs))
	}
}

func TestRotatedNames(t *testing.T) {
	at := time.Date(2026, 11, 30, 14, 47, 11, 7e6, time.FixedZone("x", 3600))
	got := filepath.Base(RotatedDir("p", at))
	if got != "20261130-134711.007" || !IsRotatedName(got) {
		t.Errorf("RotatedDir: %q", got)
	}
	for _, name := range []string{"linkprof-20261130-134711", "20261130-134711.007x", "../20261130-134711.007"} {
		if IsRotatedName(name) {
			t.Errorf("%q taken for a rotated folder", name)
		}
	}
}

func readAll(t *testing.T, dir string) []Record {
	t.Helper()
	f, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []Record
	for {
		rec, err := f.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("%s: %v", dir, err)
		}
		payload := append([]byte(nil), rec.Payload...)
		rec.Payload = payload
		out = append(out, rec)
	}
}

// Pruning keeps the newest rotated folders and touches nothing else.
func TestPruneRotated(t *testing.T) {
	parent, outside := t.TempDir(), t.TempDir()
	var made []string
	for i := range 5 {
		dir := RotatedDir(parent, time.Date(2026, 1, 1, 0, 0, i, 0, time.UTC))
		os.MkdirAll(filepath.Join(dir, "sub"), 0o755)
		made = append(made, dir)
	}
	os.WriteFile(filepath.Join(parent, "notes.txt"), nil, 0o644)
	os.Mkdir(filepath.Join(parent, "linkprof-20260101-000000"), 0o755)
	os.WriteFile(filepath.Join(outside, "keep-me"), nil, 0o644)
	os.Symlink(outside, filepath.Join(parent, "19990101-000000.000"))
	removed, err := PruneRotated(parent, 2, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(removed) != 3 || removed[0] != made[0] || removed[2] != made[2] {
		t.Errorf("removed %v, want the 3 oldest of %v", removed, made)
	}
	for _, p := range []string{made[3], made[4], filepath.Join(parent, "notes.txt"), filepath.Join(parent, "linkprof-20260101-000000"),
		filepath.Join(outside, "keep-me"), filepath.Join(parent, "19990101-000000.000")} {
		if _, err := os.Lstat(p); err != nil {
			t.Errorf("%s: %v (must stay)", p, err)
		}
	}
}

// The folder being written is never removed, even when it is not the
// newest by name: after the wall clock stepped back, the next folder is
// named before the ones already there.
func TestPruneRotatedSparesOpenFolder(t *testing.T) {
	parent := t.TempDir()
	at := func(min int) string {
		dir := RotatedDir(parent, time.Date(2026, 1, 1, 10, min, 0, 0, time.UTC))
		os.Mkdir(dir, 0o755)
		return dir
	}
	oldest, older, newest := at(0), at(10), at(20)
	open := at(5) // made after the clock stepped back to 10:05
	removed, err := PruneRotated(parent, 2, open)
	if err != nil {
		t.Fatal(err)
	}
	if len(removed) != 2 || removed[0] != oldest || removed[1] != older {
		t.Errorf("removed %v, want %s and %s", removed, oldest, older)
	}
	for _, p := range []string{open, newest} {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("%s: %v (must stay)", p, err)
		}
	}
}
