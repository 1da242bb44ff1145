package nvmlfake

import (
	"encoding/binary"
	"fmt"

	"github.com/NVIDIA/go-nvml/pkg/nvml"
	"github.com/NVIDIA/go-nvml/pkg/nvml/mock/server"
)

// fillDevice gives a mock device the functions the sampler calls; the
// others stay nil, so an unexpected NVML call panics and fails the test.
func (s *Server) fillDevice(d *server.Device, i int) {
	d.UUID = fmt.Sprintf("GPU-00000000-fake-0000-0000-%012d", i)
	d.PciBusID = BusID(i)
	if s.opts.Name != "" {
		d.GetNameFunc = func() (string, nvml.Return) { return s.opts.Name, nvml.SUCCESS }
	}
	d.GetPciInfoFunc = func() (nvml.PciInfo, nvml.Return) {
		return pciInfo(BusID(i), uint32(0x18+0x10*i)), nvml.SUCCESS
	}
	d.GetNvLinkStateFunc = func(l int) (nvml.EnableState, nvml.Return) {
		switch {
		case !s.hasNVLink(i):
			return 0, nvml.ERROR_NOT_SUPPORTED
		case l >= s.opts.Links:
			return 0, nvml.ERROR_INVALID_ARGUMENT
		}
		return nvml.FEATURE_ENABLED, nvml.SUCCESS
	}
	d.GetNvLinkRemotePciInfoFunc = func(l int) (nvml.PciInfo, nvml.Return) {
		p := Peer(i, l, s.opts.GPUs)
		if p < 0 || !s.hasNVLink(i) || l >= s.opts.Links {
			return nvml.PciInfo{}, nvml.ERROR_INVALID_ARGUMENT
		}
		return pciInfo(shortBusID(p), uint32(0x18+0x10*p)), nvml.SUCCESS
	}
	d.GetComputeRunningProcessesFunc = func() ([]nvml.ProcessInfo, nvml.Return) {
		var procs []nvml.ProcessInfo
		for _, pid := range s.opts.Pids[i] {
			procs = append(procs, nvml.ProcessInfo{Pid: pid})
		}
		return procs, nvml.SUCCESS
	}
	d.GetFieldValuesFunc = func(v []nvml.FieldValue) nvml.Return { return s.fieldValues(i, v) }
	d.GpmQueryDeviceSupportFunc = func() (nvml.GpmSupport, nvml.Return) {
		if !s.opts.GPM {
			return nvml.GpmSupport{}, nvml.ERROR_NOT_SUPPORTED
		}
		return nvml.GpmSupport{IsSupportedDevice: 1}, nvml.SUCCESS
	}
	d.GpmSampleGetFunc = func(smp nvml.GpmSample) nvml.Return { return s.gpmGet(i, smp) }
}

func pciInfo(id string, bus uint32) nvml.PciInfo {
	p := nvml.PciInfo{Bus: bus}
	for j := 0; j < len(id) && j < len(p.BusId)-1; j++ {
		p.BusId[j] = int8(id[j])
	}
	return p
}

// fieldValues serves nvmlDeviceGetFieldValues: counters and link speeds.
func (s *Server) fieldValues(gpu int, v []nvml.FieldValue) nvml.Return {
	if len(v) == 0 {
		return nvml.ERROR_INVALID_ARGUMENT
	}
	counters := isCounterRead(v)
	n := 0
	if counters {
		n = int(s.reads[gpu].Add(1))
		if s.opts.OnRead != nil {
			s.opts.OnRead(gpu)
		}
	}
	ret := nvml.SUCCESS
	s.serialize(gpu, distinctScopes(v), func(mono int64) {
		if counters && s.opts.Fail != nil {
			if ret = s.opts.Fail(gpu, n); ret != nvml.SUCCESS {
				return
			}
		}
		wallUs := (s.opts.Clock.WallNs()) / 1000
		for k := range v {
			s.fillField(gpu, n, &v[k], mono, wallUs)
		}
	})
	return ret
}

func (s *Server) fillField(gpu, n int, f *nvml.FieldValue, mono, wallUs int64) {
	f.Timestamp = wallUs
	var val uint64
	ret := nvml.SUCCESS
	switch {
	case !s.hasNVLink(gpu):
		ret = nvml.ERROR_NOT_SUPPORTED
	case f.FieldId == nvml.FI_DEV_NVLINK_GET_SPEED:
		val, f.ValueType = s.opts.LinkMBps, uint32(nvml.VALUE_TYPE_UNSIGNED_INT)
	case f.FieldId >= nvml.FI_DEV_NVLINK_THROUGHPUT_DATA_TX && f.FieldId <= nvml.FI_DEV_NVLINK_THROUGHPUT_RAW_RX:
		f.ValueType = uint32(s.opts.ValueType)
		if s.opts.FieldFail != nil {
			ret = s.opts.FieldFail(gpu, n, f.FieldId)
		}
		if ret == nvml.SUCCESS && s.opts.Counters != nil {
			val, ret = s.opts.Counters(gpu, f.FieldId, f.ScopeId, mono)
		}
	default:
		ret = nvml.ERROR_NOT_SUPPORTED
	}
	f.NvmlReturn = uint32(ret)
	f.Value = [8]byte{}
	if nvml.ValueType(f.ValueType) == nvml.VALUE_TYPE_UNSIGNED_INT {
		binary.LittleEndian.PutUint32(f.Value[:], uint32(val))
	} else {
		binary.LittleEndian.PutUint64(f.Value[:], val)
	}
}

func isCounterRead(v []nvml.FieldValue) bool {
	for _, f := range v {
		if f.FieldId >= nvml.FI_DEV_NVLINK_THROUGHPUT_DATA_TX && f.FieldId <= nvml.FI_DEV_NVLINK_THROUGHPUT_RAW_RX {
			return true
		}
	}
	return false
}

func distinctScopes(v []nvml.FieldValue) int {
	seen := map[uint32]bool{}
	for _, f := range v {
		seen[f.ScopeId] = true
	}
	return len(seen)
}
