package units

import (
	"fmt"
	"testing"
)

func TestBytes(t *testing.T) {
	for _, c := range []struct {
		b           uint64
		long, short string
	}{
		{0, "0 B", "0B"},
		{512, "512 B", "512B"},
		{1023, "1023 B", "1023B"},
		{1024, "1.00 KiB", "1KiB"},
		{32 << 10, "32.00 KiB", "32KiB"},
		{1536 << 20, "1.50 GiB", "1.5GiB"},
		{5 << 28, "1.25 GiB", "1.25GiB"},
		{1<<30 - 1, "1024.00 MiB", "1024MiB"},
		{3 << 40, "3.00 TiB", "3TiB"},
	} {
		if got := Bytes(c.b); got != c.long {
			t.Errorf("Bytes(%d) = %q, want %q", c.b, got, c.long)
		}
		if got := Short(c.b); got != c.short {
			t.Errorf("Short(%d) = %q, want %q", c.b, got, c.short)
		}
	}
}

// The formatter it replaced in report/ (fmt.Sprintf per call).
func sprintfBytes(b uint64) string {
	v, i := scale(b)
	if i == 0 {
		return fmt.Sprintf("%d B", b)
	}
	return fmt.Sprintf("%.2f %s", v, iec[i])
}

func TestBytesMatchesTheReportFormat(t *testing.T) {
	for b := uint64(1); b < 1<<42; b = b*3 + 7 {
		if Bytes(b) != sprintfBytes(b) {
			t.Fatalf("%d: %q, was %q", b, Bytes(b), sprintfBytes(b))
		}
	}
}

func BenchmarkBytes(b *testing.B) {
	for i := 0; i < b.N; i++ {
		Bytes(uint64(i) << 20)
	}
}

func BenchmarkSprintf(b *testing.B) {
	for i := 0; i < b.N; i++ {
		sprintfBytes(uint64(i) << 20)
	}
}
