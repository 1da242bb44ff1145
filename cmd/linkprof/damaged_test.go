package main

import (
	"encoding/binary"
	"hash/crc32"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/linkprof/linkprof/trace"
)

// The analysis commands on damaged recordings: the reader's fuzz corpus,
// a real recording cut short at many points (a killed recorder), and one
// whose events hold random values behind valid checksums (what a reader
// check cannot catch). Each run exits 0, or 1 with one line; never a panic.
func TestAnalysisSurvivesDamagedTraces(t *testing.T) {
	requirePrivileges(t)
	real := recordDriverAll(t)
	variants := fuzzCorpus(t)
	for i := 1; i <= 8; i++ {
		variants["cut "+strconv.Itoa(i)] = real[:len(real)*i/9]
	}
	for seed := uint64(1); seed <= 8; seed++ {
		variants["scrambled "+strconv.FormatUint(seed, 10)] = scrambleEvents(t, real, seed)
	}
	root := sharedDir(t)
	for name, data := range variants {
		dir := filepath.Join(root, strings.ReplaceAll(name, " ", "-"))
		os.Mkdir(dir, 0o755)
		if err := os.WriteFile(filepath.Join(dir, trace.FileName), data, 0o644); err != nil {
			t.Fatal(err)
		}
		for _, cmd := range []string{"report", "pprof", "timeline"} {
			t.Run(cmd+" "+name, func(t *testing.T) {
				args := []string{cmd, dir}
				if cmd != "report" {
					args = append(args, "-o", filepath.Join(dir, cmd+".out"))
				}
				r := linkprof(t, nil, args...)
				if r.code != 0 {
					r.wantError(t, exitFailure, "")
				}
				if strings.Contains(r.stdout+r.stderr, "panic") {
					t.Errorf("panic: %s", r.stderr)
				}
			})
		}
	}
}

// recordDriverAll records the fake driver's every-op pattern and returns
// the trace bytes.
func recordDriverAll(t *testing.T) []byte {
	t.Helper()
	out := filepath.Join(t.TempDir(), "rec")
	if r := linkprof(t, nil, "record", "-o", out, "--no-analyze", "--", fake.Driver, "all"); r.code != 0 {
		t.Fatalf("recording the driver: exit %d: %s", r.code, r.stderr)
	}
	data, err := os.ReadFile(filepath.Join(out, trace.FileName))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// fuzzCorpus loads trace/testdata/fuzz/FuzzReader (go test fuzz v1 files
// holding one []byte).
func fuzzCorpus(t *testing.T) map[string][]byte {
	t.Helper()
	dir := filepath.Join("..", "..", "trace", "testdata", "fuzz", "FuzzReader")
	ents, err := os.ReadDir(dir)
	if err != nil || len(ents) == 0 {
		t.Fatalf("reading the fuzz corpus: %v (%d files)", err, len(ents))
	}
	out := map[string][]byte{}
	for _, e := range ents {
		raw, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		lit, ok := strings.CutPrefix(strings.TrimSpace(string(raw)), "go test fuzz v1\n[]byte(")
		s, err := strconv.Unquote(strings.TrimSuffix(lit, ")"))
		if !ok || err != nil {
			t.Fatalf("corpus file %s: %v", e.Name(), err)
		}
		out["corpus "+e.Name()] = []byte(s)
	}
	return out
}

// scrambleEvents overwrites random bytes of every events frame and fixes
// the frame's checksum, so the damage reaches the analysis.
func scrambleEvents(t *testing.T, data []byte, seed uint64) []byte {
	t.Helper()
	const header, frameHeader = 16, 8 // trace/format.go
	out := append([]byte(nil), data...)
	rng := rand.New(rand.NewPCG(seed, 42))
	table := crc32.MakeTable(crc32.Castagnoli)
	frames := 0
	for off := header; off+frameHeader+4 <= len(out); {
		size := int(binary.LittleEndian.Uint32(out[off:]))
		typ := trace.RecordType(binary.LittleEndian.Uint16(out[off+4:]))
		end := off + frameHeader + size + 4
		if end > len(out) {
			break
		}
		payload := out[off+frameHeader : off+frameHeader+size]
		if typ == trace.RecEvents {
			for i := 0; i < len(payload)/8; i++ {
				payload[rng.IntN(len(payload))] = byte(rng.Uint32())
			}
			crc := crc32.Update(crc32.Update(0, table, out[off+4:off+frameHeader]), table, payload)
			binary.LittleEndian.PutUint32(out[off+frameHeader+size:], crc)
			frames++
		}
		off = end
	}
	if frames == 0 {
		t.Fatal("no events frame to scramble: has the trace layout changed?")
	}
	return out
}
