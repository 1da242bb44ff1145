package nvlink

import (
	"fmt"

	"github.com/NVIDIA/go-nvml/pkg/nvml"

	"github.com/linkprof/linkprof/trace"
)

// readLinksTo reads DATA_TX and DATA_RX of every active link of a GPU in one
// call and writes one RecLinkSamples frame. All links in one call cost NVML
// about 12 aggregate reads, hence the lower rate.
func (s *Sampler) readLinksTo(g *gpuState, sink Sink, lock locker) error {
	if g.linkBuf == nil {
		g.linkBuf = make([]nvml.FieldValue, 2*len(g.links))
		g.linkCtr = map[int]*[2]counter{}
		for _, l := range g.links {
			g.linkCtr[l] = &[2]counter{}
		}
	}
	for i, l := range g.links {
		g.linkBuf[2*i] = nvml.FieldValue{FieldId: nvml.FI_DEV_NVLINK_THROUGHPUT_DATA_TX, ScopeId: uint32(l)}
		g.linkBuf[2*i+1] = nvml.FieldValue{FieldId: nvml.FI_DEV_NVLINK_THROUGHPUT_DATA_RX, ScopeId: uint32(l)}
	}
	lock.Lock()
	before := s.clock.MonoNs()
	ret := g.dev.GetFieldValues(g.linkBuf)
	after := s.clock.MonoNs()
	lock.Unlock()
	payload := make([]byte, 0, len(g.links)*trace.LinkSampleSize)
	for i, l := range g.links {
		ls := trace.LinkSample{GPU: uint32(g.info.Index), Link: uint32(l), MonoBeforeNs: before, MonoAfterNs: after}
		if ret == nvml.SUCCESS {
			s.decodeLink(&ls, g.linkCtr[l], g.linkBuf[2*i:2*i+2])
		}
		payload = trace.AppendLinkSample(payload, ls)
	}
	if err := sink.WriteRaw(trace.RecLinkSamples, payload); err != nil {
		return fmt.Errorf("writing link samples: %w", err)
	}
	return nil
}

// decodeLink fills ls from a link's two fields; a field error leaves a gap.
func (s *Sampler) decodeLink(ls *trace.LinkSample, ctr *[2]counter, fv []nvml.FieldValue) {
	tx, txBits, okTx := fieldValue(&fv[0])
	rx, rxBits, okRx := fieldValue(&fv[1])
	if !okTx || !okRx {
		return
	}
	var w1, w2 bool
	ls.DataTxKiB, w1 = ctr[0].update(tx, txBits, 0)
	ls.DataRxKiB, w2 = ctr[1].update(rx, rxBits, 0)
	ls.WallUs = fv[1].Timestamp
	ls.Flags = trace.SampleOK
	if w1 || w2 {
		ls.Flags |= trace.SampleWrapped
	}
}
