package collect

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/linkprof/linkprof/scripts/standin"
	"github.com/linkprof/linkprof/trace"
)

// StandinScript returns the stand-in server to run: path when given, else
// the copy built into linkprof, written into dir (train.py beside it).
func StandinScript(path, dir string) (string, error) {
	if path != "" {
		if _, err := os.Stat(path); err != nil {
			return "", fmt.Errorf("stand-in script: %w", err)
		}
		return filepath.Abs(path)
	}
	return standin.Extract(dir)
}

// standinFacts is the part of the stand-in's --info file collect reads.
type standinFacts struct {
	Description string  `json:"description"`
	TokensPerS  float64 `json:"tokens_per_s"`
}

func readStandinFacts(path string) (*standinFacts, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var f standinFacts
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("reading %s: %w", filepath.Base(path), err)
	}
	return &f, nil
}

// standinDeviation is the stand-in's description of the model it ran in
// place of the card's (its shape, scaled down).
func (cfg *Config) standinDeviation() []string {
	if cfg.Server.InfoFile == "" {
		return nil
	}
	f, err := readStandinFacts(cfg.Server.InfoFile)
	if err != nil || f.Description == "" {
		return []string{"model: the stand-in's shape is unknown (it wrote no " + standinInfo + ")"}
	}
	return []string{"model: " + f.Description}
}

// keepInfo copies the stand-in's info file into the trace folder, once the
// folder exists.
func keepInfo(path, dir string, res *Result) error {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) || res == nil {
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading the stand-in's info: %w", err)
	}
	if err := trace.WriteFile(dir, standinInfo, data, false); err != nil {
		return fmt.Errorf("saving the stand-in's info: %w", err)
	}
	return nil
}
