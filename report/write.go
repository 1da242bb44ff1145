package report

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
)

// WriteJSON writes report.json.
func WriteJSON(w io.Writer, r *Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// Load reads a report.json.
func Load(path string) (*Report, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading report: %w", err)
	}
	var r Report
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("decoding %s: %w", path, err)
	}
	if r.Version > Version {
		return nil, fmt.Errorf("%s: report version %d is newer than this linkprof's (%d): update linkprof", path, r.Version, Version)
	}
	return &r, nil
}
