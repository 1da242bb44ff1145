package trace

import (
	"bytes"
	"reflect"
	"testing"
)

// Every field of struct lp_event survives DecodeEvent and AppendEvent: a
// field added to bpf/event.h (and so to the generated rawEvent) that Event
// does not carry fails here, by name.
func TestEventCarriesEveryField(t *testing.T) {
	typ := reflect.TypeFor[rawEvent]()
	for i := range typ.NumField() {
		f := typ.Field(i)
		if f.Name == "_" || f.Name == "Pad" {
			continue
		}
		raw := make([]byte, EventSize)
		for j := range f.Type.Size() {
			raw[f.Offset+j] = byte(0x11 * (j + 1))
		}
		if got := AppendEvent(nil, DecodeEvent(raw)); !bytes.Equal(got, raw) {
			t.Errorf("field %s (byte %d) is lost between DecodeEvent and AppendEvent", f.Name, f.Offset)
		}
	}
}

// The event's size is part of the trace format: growing lp_event is a new
// major version (docs/trace-format.md).
func TestEventSizeIsTheFormat(t *testing.T) {
	if EventSize != 104 || VersionMajor != 1 {
		t.Fatalf("format %d.x stores 104-byte events; lp_event is %d bytes", VersionMajor, EventSize)
	}
}

// Events are decoded from any offset of a record's payload.
func TestDecodeEventUnaligned(t *testing.T) {
	want := sampleEvent(7)
	raw := append([]byte{0xff}, AppendEvent(nil, want)...)
	if got := DecodeEvent(raw[1:]); got != want {
		t.Fatalf("decoded %+v, want %+v", got, want)
	}
}
