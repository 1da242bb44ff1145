package profiler

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/linkprof/linkprof/correlate"
	"github.com/linkprof/linkprof/pipeline"
)

const (
	testPodUID    = "1b4e28ba-2fa1-11d2-883f-0016d3cca427"
	testContainer = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
)

// The pod and container of a process from its cgroup, whatever the cgroup
// driver; its name from HOSTNAME, its namespace from the service account
// files in its root; nothing for a process outside Kubernetes.
func TestPodOfCgroupLayouts(t *testing.T) {
	systemdUID := strings.ReplaceAll(testPodUID, "-", "_")
	for _, c := range []struct {
		name, cgroup string
		want         Pod
	}{
		{"systemd driver, cgroup v2", "0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + systemdUID +
			".slice/cri-containerd-" + testContainer + ".scope\n", Pod{testPodUID, testContainer, "vllm-0", "serving"}},
		{"cgroupfs driver, cgroup v1", "12:pids:/kubepods/besteffort/pod" + testPodUID + "/" + testContainer +
			"\n4:memory:/kubepods/besteffort/pod" + testPodUID + "/" + testContainer + "\n",
			Pod{testPodUID, testContainer, "vllm-0", "serving"}},
		{"guaranteed pod, cri-o", "0::/kubepods.slice/kubepods-pod" + systemdUID + ".slice/crio-" + testContainer + ".scope\n",
			Pod{testPodUID, testContainer, "vllm-0", "serving"}},
		{"docker outside Kubernetes", "0::/system.slice/docker-" + testContainer + ".scope\n", Pod{}},
		{"a host process", "0::/user.slice/user-1000.slice/session-1.scope\n", Pod{}},
	} {
		t.Run(c.name, func(t *testing.T) {
			root := t.TempDir()
			old := procRoot
			procRoot = root
			defer func() { procRoot = old }()
			os.MkdirAll(filepath.Join(root, "42", "root", filepath.Dir(serviceAccountNamespace)), 0o755)
			os.WriteFile(filepath.Join(root, "42", "cgroup"), []byte(c.cgroup), 0o644)
			os.WriteFile(filepath.Join(root, "42", "root", serviceAccountNamespace), []byte("serving\n"), 0o644)
			if got := PodOf(42, map[string]string{"HOSTNAME": "vllm-0"}); got != c.want {
				t.Errorf("PodOf: %+v, want %+v", got, c.want)
			}
		})
	}
}

// A process in a pod's cgroup (made here, as the kubelet would) is
// recorded with its pod's UID, its container and its pod's name, which
// report.json names.
func TestRecordNamesThePod(t *testing.T) {
	requirePrivileges(t)
	cgroup := podCgroup(t)
	cmd, _, gate := startDriver(t, progs.Driver, []string{"HOSTNAME=vllm-tp2-0"}, "all")
	if err := os.WriteFile(filepath.Join(cgroup, "cgroup.procs"), []byte(strconv.Itoa(cmd.Process.Pid)), 0o644); err != nil {
		t.Fatalf("moving the driver into the pod's cgroup: %v", err)
	}
	cfg := testConfig(t)
	cfg.Pids = []uint32{uint32(cmd.Process.Pid)}
	cfg.Ready = openGate(gate)
	_, tr := record(t, cfg, 20*time.Second)
	p := tr.Processes[0]
	if p.PodUID != testPodUID || p.ContainerID != testContainer || p.Pod != "vllm-tp2-0" {
		t.Errorf("process record: pod_uid %q, container_id %q, pod %q", p.PodUID, p.ContainerID, p.Pod)
	}
	out, err := pipeline.Run(cfg.Dir, correlate.Options{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := out.Report.Processes; len(got) != 1 || got[0].Pod != "vllm-tp2-0" {
		t.Errorf("report processes %+v: want the one, in pod vllm-tp2-0", got)
	}
}

// podCgroup makes a pod's container cgroup as the kubelet's systemd
// driver names it, in the cgroup v2 hierarchy; skipped where there is none
// this test can write (a container without its own cgroup namespace).
func podCgroup(t *testing.T) string {
	t.Helper()
	root := cgroup2Mount()
	if root == "" {
		skipOutsideCI(t, "no cgroup v2 hierarchy mounted")
	}
	uid := strings.ReplaceAll(testPodUID, "-", "_")
	parts := []string{"kubepods.slice", "kubepods-burstable.slice", "kubepods-burstable-pod" + uid + ".slice",
		"cri-containerd-" + testContainer + ".scope"}
	dir := root
	var made []string
	for _, p := range parts {
		dir = filepath.Join(dir, p)
		if err := os.Mkdir(dir, 0o755); err != nil && !os.IsExist(err) {
			skipOutsideCI(t, fmt.Sprintf("cannot make a cgroup under %s: %v", root, err))
		} else if err == nil {
			made = append(made, dir)
		}
	}
	t.Cleanup(func() {
		for i := len(made) - 1; i >= 0; i-- {
			for range 50 { // the driver's exit empties it a moment later
				if os.Remove(made[i]) == nil {
					break
				}
				time.Sleep(20 * time.Millisecond)
			}
		}
	})
	return dir
}

func cgroup2Mount() string {
	f, err := os.Open("/proc/self/mounts")
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if fields := strings.Fields(sc.Text()); len(fields) > 2 && fields[2] == "cgroup2" {
			return fields[1]
		}
	}
	return ""
}
