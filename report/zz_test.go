package report_test

import (
	"os"
	"testing"

	"github.com/linkprof/linkprof/correlate/physim"
)

func TestZZWrite(t *testing.T) {
	name := os.Getenv("ZZ")
	if name == "" {
		t.Skip("debug helper")
	}
	os.RemoveAll("/tmp/zz-" + name)
	if _, err := physim.Write("/tmp/zz-"+name, physim.Scenario{Name: name, Seed: 2, Ranks: 4, Scale: 1}); err != nil {
		t.Fatal(err)
	}
}
