package nvlink

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/NVIDIA/go-nvml/pkg/nvml"

	"github.com/linkprof/linkprof/trace"
)

// goneCodes are the NVML results that say the GPU (or the driver behind
// it) is no longer there, as opposed to one read failing. Named here, not
// by nvml.Return.Error, whose text comes from the loaded library.
var goneCodes = map[nvml.Return]string{
	nvml.ERROR_GPU_IS_LOST:             "GPU_IS_LOST",
	nvml.ERROR_NOT_FOUND:               "NOT_FOUND",
	nvml.ERROR_GPU_NOT_FOUND:           "GPU_NOT_FOUND",
	nvml.ERROR_UNINITIALIZED:           "UNINITIALIZED",
	nvml.ERROR_DRIVER_NOT_LOADED:       "DRIVER_NOT_LOADED",
	nvml.ERROR_RESET_REQUIRED:          "RESET_REQUIRED",
	nvml.ERROR_LIB_RM_VERSION_MISMATCH: "LIB_RM_VERSION_MISMATCH",
}

// health is what the sampler knows of a GPU's presence. Only the reader
// that owns the GPU's aggregate task changes it; gpuState.parked, which
// other readers check, is atomic.
type health struct {
	lostCode nvml.Return // the gone-class result that made it lost; SUCCESS while present
	lostAt   int64       // monotonic ns of the first failed read
	streak   int         // gone-class failures in a row
}

// track follows a GPU's presence after each aggregate read: the first
// gone-class failure is reported once, LostAfter of them in a row slow
// its reads to a probe, and a good read after that reports it back.
func (s *Sampler) track(g *gpuState, agg *task, smp *trace.Sample, ret nvml.Return, sink Sink) error {
	h := &g.health
	switch {
	case goneCodes[ret] != "":
		h.streak++
		if h.lostCode == nvml.SUCCESS {
			h.lostCode, h.lostAt = ret, smp.MonoBeforeNs
			if err := s.warn(sink, smp.MonoBeforeNs, s.lostText(g, smp.MonoBeforeNs, ret)); err != nil {
				return err
			}
		}
		if s.cfg.LostAfter > 0 && h.streak == s.cfg.LostAfter {
			agg.backoff = s.cfg.LostProbe.Nanoseconds()
			g.parked.Store(true)
			return s.warn(sink, smp.MonoAfterNs, s.parkedText(g, smp.MonoAfterNs, h.streak))
		}
	case smp.OK():
		h.streak = 0
		if h.lostCode == nvml.SUCCESS {
			return nil
		}
		text := fmt.Sprintf("%s is back at %s, %s after it disappeared: reading it again",
			s.gpuName(g), s.since(smp.MonoBeforeNs), fmtSecs(smp.MonoBeforeNs-h.lostAt))
		*h, agg.backoff = health{}, 0
		g.parked.Store(false)
		slog.Info(text)
		return s.note(sink, smp.MonoBeforeNs, "info", text)
	}
	return nil
}

func (s *Sampler) lostText(g *gpuState, at int64, ret nvml.Return) string {
	return fmt.Sprintf("%s disappeared at %s: NVML %s; its later reads are gaps",
		s.gpuName(g), s.since(at), goneCodes[ret])
}

func (s *Sampler) parkedText(g *gpuState, at int64, n int) string {
	return fmt.Sprintf("%s: %d reads in a row failed by %s: reading it only every %v until it answers",
		s.gpuName(g), n, s.since(at), s.cfg.LostProbe)
}

func (s *Sampler) gpuName(g *gpuState) string {
	return fmt.Sprintf("GPU %d (UUID %s)", g.info.Index, g.info.UUID)
}

// since is a monotonic time as +seconds into the run.
func (s *Sampler) since(mono int64) string { return "+" + fmtSecs(mono-s.start.Load()) }

func fmtSecs(ns int64) string { return fmt.Sprintf("%.1fs", time.Duration(ns).Seconds()) }

func (s *Sampler) warn(sink Sink, mono int64, text string) error {
	slog.Warn(text)
	return s.note(sink, mono, "warn", text)
}

func (s *Sampler) note(sink Sink, mono int64, level, text string) error {
	if err := sink.WriteJSON(trace.RecNote, trace.Note{MonoNs: mono, Level: level, Text: text}); err != nil {
		return fmt.Errorf("writing note: %w", err)
	}
	return nil
}
