package main

import (
	"os"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	"sigs.k8s.io/yaml"
)

// The DaemonSet's command line is one linkprof takes: every flag known,
// no contradiction (deploy/daemonset_test.go checks the rest).
func TestDaemonSetArgsParse(t *testing.T) {
	data, err := os.ReadFile("../../deploy/linkprof-daemonset.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var ds appsv1.DaemonSet
	if err := yaml.Unmarshal(data, &ds); err != nil {
		t.Fatal(err)
	}
	args := ds.Spec.Template.Spec.Containers[0].Args
	if len(args) == 0 || args[0] != "record" {
		t.Fatalf("args %v: want linkprof record", args)
	}
	for i, a := range args {
		args[i] = strings.ReplaceAll(a, "$(NODE_NAME)", "gpu-node-1") // as the kubelet expands it
	}
	var f recordFlags
	fs := newFlags("record")
	f.register(fs)
	if err := parseFlags(fs, recordUsage, args[1:]); err != nil {
		t.Fatalf("%v: %v", args, err)
	}
	if err := f.check(fs, commandAfterDash(fs)); err != nil {
		t.Fatalf("%v: %v", args, err)
	}
	if f.fleet.rotate == 0 || !f.fleet.watch || f.fleet.metrics == "" || f.pidOf == "" {
		t.Errorf("%v: want continuous mode, watching --pid-of, metrics", args)
	}
}
