package trace

// Meta decodes a metadata record into its type, once, for readers that
// dispatch on it: Start, Stop, Process, Library, Comm, GPU, Clock, Stack,
// Mappings, Note, Lost, GPMSample, Stall or NIC (a value, not a pointer). Data records
// (events, samples, per-link samples, NIC samples) are not metadata: ok is false, as it
// is for types this version does not know (a newer minor version's).
func (rec Record) Meta() (v any, ok bool, err error) {
	switch rec.Type {
	case RecStart:
		return decodeAs[Start](rec)
	case RecStop:
		return decodeAs[Stop](rec)
	case RecProcess:
		return decodeAs[Process](rec)
	case RecLibrary:
		return decodeAs[Library](rec)
	case RecComm:
		return decodeAs[Comm](rec)
	case RecGPU:
		return decodeAs[GPU](rec)
	case RecClock:
		return decodeAs[Clock](rec)
	case RecStack:
		return decodeAs[Stack](rec)
	case RecMappings:
		return decodeAs[Mappings](rec)
	case RecNote:
		return decodeAs[Note](rec)
	case RecLost:
		return decodeAs[Lost](rec)
	case RecGPUSamples:
		return decodeAs[GPMSample](rec)
	case RecStall:
		return decodeAs[Stall](rec)
	case RecNIC:
		return decodeAs[NIC](rec)
	}
	return nil, false, nil
}

func decodeAs[T any](rec Record) (any, bool, error) {
	var v T
	if err := rec.JSON(&v); err != nil {
		return nil, true, err
	}
	return v, true, nil
}
