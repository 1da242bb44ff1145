package correlate

import (
	"encoding/json"

	"github.com/linkprof/linkprof/trace"
)

// clockOf is the clock pair a clock, start or stop record carries.
func clockOf(rec trace.Record) trace.Clock {
	var c trace.Clock
	if rec.Type == trace.RecClock {
		_ = json.Unmarshal(rec.Payload, &c)
		return c
	}
	var v struct {
		Clock trace.Clock `json:"clock"`
	}
	_ = json.Unmarshal(rec.Payload, &v)
	return v.Clock
}
