package trace

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"os"
	"sync"
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// batchBytes bounds a binary frame, so a crash loses at most one batch
// beyond the last flush and readers never hold huge frames.
const batchBytes = 64 << 10

// Writer appends records to a trace. It is safe for concurrent use: the
// event reader and the NVML sampler write through one Writer. Data reaches
// the file on Flush (the recorder flushes at least every second), so a
// recorder killed with SIGKILL leaves a trace readable up to its last flush.
type Writer struct {
	mu      sync.Mutex
	f       *os.File
	buf     *bufio.Writer
	events  []byte
	samples []byte
	nics    []byte
	nEvents uint64
	taps    []func(Sample)
	recTaps []func(RecordType, any)
	err     error // first write error; every later call returns it
}

// Create starts a trace in dir (see PrepareDir and CreateFile for the rules
// on existing folders and files).
func Create(dir string, force bool) (*Writer, error) {
	if err := PrepareDir(dir, force); err != nil {
		return nil, err
	}
	f, err := CreateFile(dir, FileName, force)
	if err != nil {
		return nil, err
	}
	w := &Writer{}
	w.open(f)
	return w, w.err
}

// open starts writing a new file: its header first.
func (w *Writer) open(f *os.File) {
	w.f, w.buf, w.err, w.nEvents = f, bufio.NewWriterSize(f, 1<<20), nil, 0
	var hdr [headerSize]byte
	copy(hdr[:], magic[:])
	binary.LittleEndian.PutUint16(hdr[8:], VersionMajor)
	binary.LittleEndian.PutUint16(hdr[10:], VersionMinor)
	w.write(hdr[:])
}

func (w *Writer) write(b []byte) {
	if w.err != nil {
		return
	}
	if _, err := w.buf.Write(b); err != nil {
		w.err = fmt.Errorf("writing trace: %w", err)
	}
}

func (w *Writer) frame(t RecordType, payload []byte) {
	var hdr [frameHeaderSize]byte
	binary.LittleEndian.PutUint32(hdr[0:], uint32(len(payload)))
	binary.LittleEndian.PutUint16(hdr[4:], uint16(t))
	crc := crc32.Update(0, castagnoli, hdr[4:])
	crc = crc32.Update(crc, castagnoli, payload)
	var trailer [frameTrailer]byte
	binary.LittleEndian.PutUint32(trailer[:], crc)
	w.write(hdr[:])
	w.write(payload)
	w.write(trailer[:])
}

// WriteEvents queues raw struct lp_event bytes (a multiple of EventSize).
func (w *Writer) WriteEvents(raw []byte) error {
	if len(raw)%EventSize != 0 {
		return fmt.Errorf("writing events: %d bytes is not a whole number of events", len(raw))
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.events = append(w.events, raw...)
	w.nEvents += uint64(len(raw) / EventSize)
	if len(w.events) >= batchBytes {
		w.frame(RecEvents, w.events)
		w.events = w.events[:0]
	}
	return w.err
}

// WriteSamples queues NVML samples.
func (w *Writer) WriteSamples(samples ...Sample) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, s := range samples {
		w.samples = AppendSample(w.samples, s)
		for _, tap := range w.taps {
			tap(s)
		}
	}
	if len(w.samples) >= batchBytes {
		w.frame(RecSamples, w.samples)
		w.samples = w.samples[:0]
	}
	return w.err
}

// WriteNICSamples queues NIC samples: one round of the NIC sampler per
// call, so a round's samples lie together in the file.
func (w *Writer) WriteNICSamples(samples ...NICSample) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, s := range samples {
		w.nics = AppendNICSample(w.nics, s)
	}
	if len(w.nics) >= batchBytes {
		w.frame(RecNICSamples, w.nics)
		w.nics = w.nics[:0]
	}
	return w.err
}

// TapSamples adds fn to the functions that see every sample as it is
// written (the recorder's live view of the links). fn runs under the
// writer's lock: it must be quick and must not write. Add taps before the
// writer is shared.
func (w *Writer) TapSamples(fn func(Sample)) { w.taps = append(w.taps, fn) }

// TapRecords adds fn to the functions that see every metadata record
// written with WriteJSON (the recorder's live view of processes, GPUs and
// communicators), in the order the records reach the file: fn runs under
// the writer's lock, so it must be quick and must not write. Add taps
// before the writer is shared.
func (w *Writer) TapRecords(fn func(RecordType, any)) { w.recTaps = append(w.recTaps, fn) }

// WriteJSON writes one metadata record. Queued events and samples go first,
// so a record never appears before the data that preceded it.
func (w *Writer) WriteJSON(t RecordType, v any) error {
	payload, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encoding %T: %w", v, err)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, tap := range w.recTaps {
		tap(t, v)
	}
	w.flushBatches()
	w.frame(t, payload)
	return w.err
}

// WriteRaw writes one record with a payload encoded by the caller.
func (w *Writer) WriteRaw(t RecordType, payload []byte) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.flushBatches()
	w.frame(t, payload)
	return w.err
}

func (w *Writer) flushBatches() {
	if len(w.events) > 0 {
		w.frame(RecEvents, w.events)
		w.events = w.events[:0]
	}
	if len(w.samples) > 0 {
		w.frame(RecSamples, w.samples)
		w.samples = w.samples[:0]
	}
	if len(w.nics) > 0 {
		w.frame(RecNICSamples, w.nics)
		w.nics = w.nics[:0]
	}
}

// Flush hands everything queued to the operating system.
func (w *Writer) Flush() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.flushBatches()
	if w.err == nil {
		if err := w.buf.Flush(); err != nil {
			w.err = fmt.Errorf("writing trace: %w", err)
		}
	}
	return w.err
}

// Events is the number of events written so far.
func (w *Writer) Events() uint64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.nEvents
}

// Err returns the first write error, if any.
func (w *Writer) Err() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

// Close flushes and closes the file.
func (w *Writer) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.flushBatches()
	return w.closeFile()
}
