package standin

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Every module the stand-ins import is built in: a new .py file that is
// not a test or a check must join the embed list.
func TestEveryModuleEmbedded(t *testing.T) {
	dir := t.TempDir()
	if _, err := Extract(dir); err != nil {
		t.Fatal(err)
	}
	src, _ := filepath.Glob("*.py")
	for _, f := range src {
		if strings.HasPrefix(f, "test_") || strings.HasPrefix(f, "check_") {
			continue
		}
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("%s is not built in (embed.go)", f)
		}
	}
}
