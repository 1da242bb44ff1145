//lint:file-ignore ST1005 error messages start with BurstGPT's capitalized column names

package loadgen

import (
	"cmp"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
)

// BurstRow is one request of a BurstGPT trace.
type BurstRow struct {
	Timestamp float64 // seconds from the trace's start
	Request   int     // prompt tokens
	Response  int     // output tokens
}

// BurstStats says what reading a BurstGPT file kept and dropped.
type BurstStats struct {
	Rows    int `json:"rows"`    // data rows read
	Failed  int `json:"failed"`  // dropped: zero request or response tokens (BurstGPT's failures)
	Outside int `json:"outside"` // dropped: outside the window
	Clamped int `json:"clamped"` // kept with a length cut to the maximum
}

// Window selects the part of a trace to replay.
type Window struct {
	Start     float64 `json:"start"`      // trace seconds
	Length    float64 `json:"length"`     // trace seconds; 0 runs to the end
	TimeScale float64 `json:"time_scale"` // wall seconds per trace second
	MaxInput  int     `json:"max_input_len,omitempty"`
	MaxOutput int     `json:"max_output_len,omitempty"`
	Limit     int     `json:"limit,omitempty"` // at most this many requests; 0: all
}

// burstColumns are the columns used, named as in BurstGPT's header. Other
// columns (Model, Total tokens, Log Type, and the Session ID and Elapsed
// time of later releases) are ignored.
var burstColumns = []string{"Timestamp", "Request tokens", "Response tokens"}

// ReadBurstGPT reads the rows of a BurstGPT CSV inside w, in timestamp
// order. name labels errors ("file.csv:12: ...").
func ReadBurstGPT(r io.Reader, name string, w Window) ([]BurstRow, BurstStats, error) {
	var st BurstStats
	cr := csv.NewReader(r)
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err != nil {
		return nil, st, fmt.Errorf("%s:1: reading header: %w", name, err)
	}
	idx, err := columnIndexes(header)
	if err != nil {
		return nil, st, fmt.Errorf("%s:1: %w", name, err)
	}
	var rows []BurstRow
	for line := 2; ; line++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, st, fmt.Errorf("%s:%d: %w", name, line, err)
		}
		row, err := parseBurstRow(rec, idx)
		if err != nil {
			return nil, st, fmt.Errorf("%s:%d: %w", name, line, err)
		}
		st.Rows++
		if row, keep := w.admit(row, &st); keep {
			rows = append(rows, row)
		}
	}
	slices.SortStableFunc(rows, func(a, b BurstRow) int { return cmp.Compare(a.Timestamp, b.Timestamp) })
	if w.Limit > 0 && len(rows) > w.Limit {
		rows = rows[:w.Limit]
	}
	return rows, st, nil
}

func columnIndexes(header []string) ([]int, error) {
	idx := make([]int, len(burstColumns))
	for i, want := range burstColumns {
		idx[i] = slices.IndexFunc(header, func(h string) bool {
			return strings.EqualFold(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")), want)
		})
		if idx[i] < 0 {
			return nil, fmt.Errorf("no %q column: is this a BurstGPT CSV? (header %q)", want, strings.Join(header, ","))
		}
	}
	return idx, nil
}

func parseBurstRow(rec []string, idx []int) (BurstRow, error) {
	var row BurstRow
	var err error
	cell := func(i int) string { return strings.TrimSpace(rec[idx[i]]) }
	if row.Timestamp, err = strconv.ParseFloat(cell(0), 64); err != nil || row.Timestamp < 0 {
		return row, fmt.Errorf("Timestamp %q is not a number of seconds", cell(0))
	}
	if row.Request, err = strconv.Atoi(cell(1)); err != nil || row.Request < 0 {
		return row, fmt.Errorf("Request tokens %q is not a count", cell(1))
	}
	if row.Response, err = strconv.Atoi(cell(2)); err != nil || row.Response < 0 {
		return row, fmt.Errorf("Response tokens %q is not a count", cell(2))
	}
	return row, nil
}

func (w Window) admit(row BurstRow, st *BurstStats) (BurstRow, bool) {
	if row.Timestamp < w.Start || (w.Length > 0 && row.Timestamp >= w.Start+w.Length) {
		st.Outside++
		return row, false
	}
	if row.Request == 0 || row.Response == 0 {
		st.Failed++
		return row, false
	}
	clamped := false
	if w.MaxInput > 0 && row.Request > w.MaxInput {
		row.Request, clamped = w.MaxInput, true
	}
	if w.MaxOutput > 0 && row.Response > w.MaxOutput {
		row.Response, clamped = w.MaxOutput, true
	}
	if clamped {
		st.Clamped++
	}
	return row, true
}

// ReplayRequests turns rows into requests whose At is the row's offset
// from the window start, times the time scale, with dummy prompts of the
// row's request length.
func ReplayRequests(rows []BurstRow, w Window, token int, distinct bool) []Request {
	scale := w.TimeScale
	if scale <= 0 {
		scale = 1
	}
	reqs := make([]Request, len(rows))
	for i, r := range rows {
		at := (r.Timestamp - w.Start) * scale
		reqs[i] = Request{
			ID: i, Prompt: DummyPrompt(i, r.Request, token, distinct), MaxTokens: r.Response,
			At: time.Duration(at * float64(time.Second)),
		}
	}
	return reqs
}
