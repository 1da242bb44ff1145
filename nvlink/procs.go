package nvlink

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"github.com/linkprof/linkprof/trace"
)

// restartDelay spaces the restarts of a reader process, so one that dies
// at once does not spin.
const restartDelay = 100 * time.Millisecond

// ReaderStream is a running GPU reader: Out carries its records (wire.go);
// Control, when not nil, takes the sampler's rate changes (ReaderArgs.Control);
// Wait, called once Out ended or the reader's ctx is done, waits for it to
// be gone and says why it ended.
type ReaderStream struct {
	Out     io.Reader
	Control io.Writer
	Wait    func() error
}

// StartReaderFunc starts the reader of one GPU; it must stop when ctx is done.
type StartReaderFunc func(ctx context.Context, a ReaderArgs) (*ReaderStream, error)

// ProcessReader starts readers as child processes running cmd followed by
// the reader's flags. A child is killed when ctx is done, and by the kernel
// when the sampler's process dies (Pdeathsig), so none is left behind.
func ProcessReader(cmd []string) StartReaderFunc {
	return func(ctx context.Context, a ReaderArgs) (*ReaderStream, error) {
		c := exec.CommandContext(ctx, cmd[0], append(cmd[1:], a.Args()...)...)
		c.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		stderr := &tailWriter{max: 512}
		c.Stderr = stderr
		out, err := c.StdoutPipe()
		if err != nil {
			return nil, fmt.Errorf("starting reader process: %w", err)
		}
		control, err := c.StdinPipe()
		if err != nil {
			return nil, fmt.Errorf("starting reader process: %w", err)
		}
		if err := c.Start(); err != nil {
			return nil, fmt.Errorf("starting reader process: %w", err)
		}
		wait := func() error {
			err := c.Wait()
			if msg := stderr.lastLine(); err != nil && msg != "" {
				err = fmt.Errorf("%w: %s", err, msg)
			}
			return err
		}
		return &ReaderStream{Out: out, Control: control, Wait: wait}, nil
	}
}

// startReader is the configured way of starting a GPU's reader (Validate
// made sure there is one).
func (s *Sampler) startReader() StartReaderFunc {
	if s.cfg.StartReader != nil {
		return s.cfg.StartReader
	}
	return ProcessReader(s.cfg.ReaderCmd)
}

// supervise runs a GPU's reader and records what it reads. A reader that
// ends before ctx is done leaves a gap and a note, and is restarted up to
// Restarts times; then the GPU is no longer read and the others go on.
// Only a failed write to the sink is an error.
func (s *Sampler) supervise(ctx context.Context, g *gpuState, sink Sink) error {
	start := s.startReader()
	a := ReaderArgs{GPU: g.info.Index, Hz: s.cfg.Hz, Slots: g.slots, LostAfter: s.cfg.LostAfter, LostProbe: s.cfg.LostProbe,
		CPUShare: s.cfg.CPUPercent / 100}
	agg := &task{} // track's backoff is the reader's business here; this one is unused
	for restarts := 0; ; restarts++ {
		why, err := s.stream(ctx, g, start, a, agg, sink)
		if err != nil || ctx.Err() != nil {
			return err
		}
		now := s.clock.MonoNs()
		if err := sink.WriteSamples(trace.Sample{GPU: uint32(g.info.Index), MonoBeforeNs: now, MonoAfterNs: now}); err != nil {
			return fmt.Errorf("writing samples: %w", err)
		}
		if s.cfg.Restarts < 0 || restarts >= s.cfg.Restarts {
			return s.warn(sink, now, fmt.Sprintf("%s: its NVML reader process ended at %s (%v) after %d restarts: its counters are no longer read",
				s.gpuName(g), s.since(now), why, restarts))
		}
		if err := s.warn(sink, now, fmt.Sprintf("%s: its NVML reader process ended at %s (%v): restarting it (%d of %d)",
			s.gpuName(g), s.since(now), why, restarts+1, s.cfg.Restarts)); err != nil {
			return err
		}
		if s.clock.Sleep(ctx, restartDelay) != nil {
			return nil
		}
	}
}

// stream runs one reader until its stream ends: why says how it ended, err
// is a failed write to the sink. The reader is stopped and waited for before
// stream returns.
func (s *Sampler) stream(ctx context.Context, g *gpuState, start StartReaderFunc, a ReaderArgs, agg *task, sink Sink) (why, err error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	st, why := start(ctx, a)
	if why != nil {
		return why, nil
	}
	if st.Control != nil {
		s.pace.attach(g.info.Index, st.Control)
		defer s.pace.detach(g.info.Index)
	}
	buf := make([]byte, trace.SampleSize)
	for err == nil {
		if _, why = io.ReadFull(st.Out, buf); why != nil {
			break
		}
		var r rawRead
		if r, why = decodeWire(buf, g.info.Index); why != nil {
			break
		}
		smp := g.decode(r)
		if err = sink.WriteSamples(smp); err != nil {
			err = fmt.Errorf("writing samples: %w", err)
			break
		}
		err = s.track(g, agg, &smp, r.ret, sink)
		s.pace.read(g.info.Index, smp.MonoAfterNs, g.parked.Load())
	}
	cancel()
	if c, ok := st.Control.(io.Closer); ok {
		c.Close()
	}
	if werr := st.Wait(); werr != nil && (errors.Is(why, io.EOF) || errors.Is(why, io.ErrUnexpectedEOF)) {
		why = werr // the exit status says more than the end of its output
	} else if errors.Is(why, io.EOF) {
		why = errors.New("exited")
	}
	return why, err
}

// tailWriter keeps the end of what a reader process wrote to stderr, for
// the note that says why it ended.
type tailWriter struct {
	max int
	b   []byte
}

func (t *tailWriter) Write(p []byte) (int, error) {
	t.b = append(t.b, p...)
	if len(t.b) > t.max {
		t.b = append(t.b[:0], t.b[len(t.b)-t.max:]...)
	}
	return len(p), nil
}

func (t *tailWriter) lastLine() string {
	lines := strings.Split(strings.TrimSpace(string(t.b)), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}
