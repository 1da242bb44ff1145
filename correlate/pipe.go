package correlate

import (
	"io"

	"github.com/linkprof/linkprof/trace"
)

// pipeDepth is how many records the reading goroutine may run ahead.
const pipeDepth = 64

// pipedRecord is a record whose payload the reader no longer reuses.
type pipedRecord struct {
	rec trace.Record
	buf *[]byte
	err error
}

// readAhead reads, checks and copies records on its own goroutine, so file
// I/O and checksums overlap the analysis (the benchmark's second core).
// Payload buffers come back through free once the record is handled.
func readAhead(r *trace.Reader, done <-chan struct{}) (<-chan pipedRecord, chan<- *[]byte) {
	out := make(chan pipedRecord, pipeDepth)
	free := make(chan *[]byte, pipeDepth+2)
	go func() {
		defer close(out)
		for {
			rec, err := r.Next()
			if err == io.EOF {
				return
			}
			var p pipedRecord
			if err != nil {
				p.err = err
			} else {
				var buf *[]byte
				select {
				case buf = <-free:
				default:
					buf = new([]byte)
				}
				*buf = append((*buf)[:0], rec.Payload...)
				rec.Payload = *buf
				p = pipedRecord{rec: rec, buf: buf}
			}
			select {
			case out <- p:
			case <-done:
				return
			}
			if err != nil {
				return
			}
		}
	}()
	return out, free
}
