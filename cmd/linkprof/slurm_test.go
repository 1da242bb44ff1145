package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/linkprof/linkprof/report"
)

// fakeSrun stands in for Slurm's srun on one machine: a step with
// --nodes=N runs N tasks here, SLURMD_NODENAME naming node1..nodeN, and
// hands SIGTERM on to them as srun does; any other step runs once.
const fakeSrun = `#!/bin/bash
nodes=1
while [ $# -gt 0 ]; do
	case $1 in
	--nodes=*) nodes=${1#--nodes=}; shift ;;
	--*) shift ;;
	*) break ;;
	esac
done
pids=()
for i in $(seq "$nodes"); do
	SLURMD_NODENAME=node$i "$@" &
	pids+=($!)
done
trap 'kill -TERM "${pids[@]}" 2>/dev/null' TERM
status=0
for p in "${pids[@]}"; do
	while :; do
		wait "$p"
		s=$?
		kill -0 "$p" 2>/dev/null || break # else a signal cut the wait short
	done
	[ "$s" -ne 0 ] && status=$s
done
exit "$status"
`

// scripts/slurm-record.sh on a two-node allocation (a fake srun): a
// recorder per node writes its own folder and reports the job's calls,
// the job runs once every recorder attached, the recorders stop when it
// ends, and the per-host folders are merged (or the merge command named,
// with a linkprof that has no merge yet); the job's status is the
// script's.
func TestSlurmRecordScript(t *testing.T) {
	requirePrivileges(t)
	tmp := t.TempDir()
	bin := filepath.Join(tmp, "bin")
	os.Mkdir(bin, 0o755)
	if err := os.WriteFile(filepath.Join(bin, "srun"), []byte(fakeSrun), 0o755); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(tmp, "job")
	cmd := exec.Command("bash", "../../scripts/slurm-record.sh", "-o", out, "-l", linkprofBin, "--", fake.Driver, "rate", "1000", "3")
	cmd.Env = append(withoutSudo(os.Environ()), "PATH="+bin+":"+os.Getenv("PATH"), "SLURM_JOB_NUM_NODES=2", "SLURM_JOB_ID=42")
	began := time.Now()
	output, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("slurm-record.sh: %v\n%s", err, output)
	}
	t.Logf("took %s", time.Since(began).Round(time.Millisecond))
	for _, host := range []string{"node1", "node2"} {
		rep, err := report.Load(filepath.Join(out, host, "report.json"))
		if err != nil {
			t.Fatalf("%s: %v\n%s", host, err, output)
		}
		if n := opCalls(rep)["AllReduce"]; n == 0 {
			t.Errorf("%s recorded no AllReduce of the job", host)
		}
	}
	if linkprof(t, nil, "help", "merge").code == 0 {
		if _, err := os.Stat(filepath.Join(out, "merged")); err != nil {
			t.Errorf("no merged folder: %v\n%s", err, output)
		}
	} else if want := "linkprof merge -o " + out + "/merged " + out + "/node1 " + out + "/node2"; !strings.Contains(string(output), want) {
		t.Errorf("output does not name the merge (%q):\n%s", want, output)
	}

	// With --rotate (the -r example in docs/fleet.md) each host folder
	// holds a folder per period: nothing to merge as one recording, and
	// the script says so instead of a failed merge.
	rotated := filepath.Join(tmp, "rotated")
	cmd = exec.Command("bash", "../../scripts/slurm-record.sh", "-o", rotated, "-l", linkprofBin, "-r", "--rotate 1s --keep 10",
		"--", fake.Driver, "rate", "200", "2")
	cmd.Env = append(withoutSudo(os.Environ()), "PATH="+bin+":"+os.Getenv("PATH"), "SLURM_JOB_NUM_NODES=2")
	output, err = cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("slurm-record.sh -r '--rotate 1s': %v\n%s", err, output)
	}
	if strings.Contains(string(output), "merge failed") || !strings.Contains(string(output), "continuous mode (--rotate)") {
		t.Errorf("with --rotate: want the per-period folders named, not a merge:\n%s", output)
	}

	cmd = exec.Command("bash", "../../scripts/slurm-record.sh", "-o", filepath.Join(tmp, "failed"), "-l", linkprofBin, "--", "sh", "-c", "exit 3")
	cmd.Env = append(withoutSudo(os.Environ()), "PATH="+bin+":"+os.Getenv("PATH"), "SLURM_JOB_NUM_NODES=2")
	if err := cmd.Run(); cmd.ProcessState.ExitCode() != 3 {
		t.Errorf("a job that exits 3: the script exits %d (%v)", cmd.ProcessState.ExitCode(), err)
	}
}
