package trace

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
)

// Record is one frame of a trace. Payload is valid until the next call to
// Reader.Next.
type Record struct {
	Type    RecordType
	Payload []byte
	Offset  int64 // of the frame in the file
}

// Reader reads a trace record by record, in constant memory.
type Reader struct {
	r         *bufio.Reader
	name      string
	off       int64
	buf       []byte
	Minor     uint16 // format minor version of the file
	Truncated bool   // the file ends mid-record (the recorder was killed)
}

// NewReader checks the header of a trace read from r; name is used in errors.
func NewReader(r io.Reader, name string) (*Reader, error) {
	br := bufio.NewReaderSize(r, 1<<20)
	var hdr [headerSize]byte
	if _, err := io.ReadFull(br, hdr[:]); err != nil {
		return nil, fmt.Errorf("%s: %w: file too short for a header", name, ErrNotTrace)
	}
	if [8]byte(hdr[:8]) != magic {
		return nil, fmt.Errorf("%s: %w: bad magic", name, ErrNotTrace)
	}
	major := binary.LittleEndian.Uint16(hdr[8:])
	minor := binary.LittleEndian.Uint16(hdr[10:])
	if major != VersionMajor {
		return nil, fmt.Errorf("%s: %w %d.%d (this linkprof reads %d.x)", name, ErrVersion, major, minor, VersionMajor)
	}
	return &Reader{r: br, name: name, off: headerSize, Minor: minor}, nil
}

// Next returns the next record, or io.EOF at the end of the file. A frame
// cut short at the end sets Truncated and ends the trace cleanly; a frame
// that fails its checksum is an error.
func (r *Reader) Next() (Record, error) {
	var hdr [frameHeaderSize]byte
	_, err := io.ReadFull(r.r, hdr[:])
	if err == io.EOF {
		return Record{}, io.EOF
	}
	if err != nil {
		return r.truncated()
	}
	size := binary.LittleEndian.Uint32(hdr[0:])
	typ := RecordType(binary.LittleEndian.Uint16(hdr[4:]))
	if size > maxPayload {
		return Record{}, fmt.Errorf("%s: %w: record at offset %d claims %d bytes", r.name, ErrCorrupt, r.off, size)
	}
	if cap(r.buf) < int(size)+frameTrailer {
		r.buf = make([]byte, int(size)+frameTrailer)
	}
	body := r.buf[:int(size)+frameTrailer]
	if _, err := io.ReadFull(r.r, body); err != nil {
		return r.truncated()
	}
	payload := body[:size]
	crc := crc32.Update(0, castagnoli, hdr[4:])
	crc = crc32.Update(crc, castagnoli, payload)
	if crc != binary.LittleEndian.Uint32(body[size:]) {
		return Record{}, fmt.Errorf("%s: %w: checksum mismatch in record at offset %d", r.name, ErrCorrupt, r.off)
	}
	rec := Record{Type: typ, Payload: payload, Offset: r.off}
	r.off += int64(frameHeaderSize) + int64(size) + frameTrailer
	return rec, nil
}

func (r *Reader) truncated() (Record, error) {
	r.Truncated = true
	return Record{}, io.EOF
}

// Events calls fn for each event of a RecEvents record.
func (rec Record) Events(fn func(Event)) error {
	if len(rec.Payload)%EventSize != 0 {
		return fmt.Errorf("%w: events record at offset %d has %d bytes", ErrCorrupt, rec.Offset, len(rec.Payload))
	}
	for b := rec.Payload; len(b) > 0; b = b[EventSize:] {
		fn(DecodeEvent(b))
	}
	return nil
}

// Samples calls fn for each sample of a RecSamples record.
func (rec Record) Samples(fn func(Sample)) error {
	if len(rec.Payload)%SampleSize != 0 {
		return fmt.Errorf("%w: samples record at offset %d has %d bytes", ErrCorrupt, rec.Offset, len(rec.Payload))
	}
	for b := rec.Payload; len(b) > 0; b = b[SampleSize:] {
		fn(DecodeSample(b))
	}
	return nil
}

// JSON decodes a metadata record into v.
func (rec Record) JSON(v any) error {
	if err := json.Unmarshal(rec.Payload, v); err != nil {
		return fmt.Errorf("%w: record at offset %d: %v", ErrCorrupt, rec.Offset, err)
	}
	return nil
}

// File is an open trace file and its reader.
type File struct {
	*Reader
	f *os.File
}

// Open opens the trace in a recording folder.
func Open(dir string) (*File, error) {
	path := filepath.Join(dir, FileName)
	f, err := openRegular(path)
	if errors.Is(err, os.ErrNotExist) {
		if _, derr := os.Stat(dir); derr != nil {
			return nil, fmt.Errorf("opening %s: %w", dir, derr)
		}
		return nil, fmt.Errorf("%s: %w (no %s: is it a linkprof recording?)", dir, ErrNoTrace, FileName)
	}
	if err != nil {
		return nil, fmt.Errorf("opening trace: %w", err)
	}
	r, err := NewReader(f, path)
	if err != nil {
		f.Close()
		return nil, err
	}
	return &File{Reader: r, f: f}, nil
}

// Close closes the file.
func (f *File) Close() error { return f.f.Close() }
