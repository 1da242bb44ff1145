// Package standin carries the stand-in servers (scripts/standin/*.py) inside
// the linkprof binary, so linkprof collect --standin finds them wherever it
// runs from.
package standin

import (
	"embed"
	"fmt"
	"os"
	"path/filepath"
)

//go:embed api.py engine.py model.py moe.py router.py server.py shapes.py train.py
var files embed.FS

// Extract writes the stand-in's files into dir (which must exist) and
// returns the path of server.py; train.py lies beside it.
func Extract(dir string) (string, error) {
	entries, err := files.ReadDir(".")
	if err != nil {
		return "", fmt.Errorf("listing the built-in stand-in: %w", err)
	}
	for _, e := range entries {
		data, err := files.ReadFile(e.Name())
		if err != nil {
			return "", fmt.Errorf("reading the built-in stand-in: %w", err)
		}
		if err := os.WriteFile(filepath.Join(dir, e.Name()), data, 0o644); err != nil {
			return "", fmt.Errorf("writing the stand-in: %w", err)
		}
	}
	return filepath.Join(dir, "server.py"), nil
}
