package profiler

import (
	"os"
	"regexp"
	"strings"
)

// Kubernetes names a pod's cgroup after its UID and a container's after
// its ID, whatever the cgroup driver: systemd
// (.../kubepods-burstable-pod<UID with _>.slice/cri-containerd-<ID>.scope)
// or cgroupfs (.../kubepods/burstable/pod<UID>/<ID>).
var (
	podUIDInCgroup    = regexp.MustCompile(`pod([0-9a-f]{8}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{12})`)
	containerInCgroup = regexp.MustCompile(`(?:^|[/-])([0-9a-f]{64})(?:\.scope)?$`)
)

// serviceAccountNamespace is where a pod's containers find their
// namespace (unless the pod does not mount its service account).
const serviceAccountNamespace = "var/run/secrets/kubernetes.io/serviceaccount/namespace"

// Pod is the Kubernetes pod and container a process runs in, as /proc
// shows them to a recorder in the host's pid namespace (a hostPID pod).
type Pod struct {
	UID       string // from its cgroup
	Container string // container ID, from its cgroup
	Name      string // its HOSTNAME, which Kubernetes sets to the pod's name (unless spec.hostname)
	Namespace string // from the service account files in its root, when mounted
}

// PodOf says which pod a process runs in; the zero Pod when none.
func PodOf(pid uint32, env map[string]string) Pod {
	raw, err := os.ReadFile(procPath(pid, "cgroup"))
	if err != nil {
		return Pod{}
	}
	var p Pod
	for _, line := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
		path := line[strings.LastIndexByte(line, ':')+1:]
		if m := podUIDInCgroup.FindStringSubmatch(path); m != nil && p.UID == "" {
			p.UID = strings.ReplaceAll(m[1], "_", "-")
			if c := containerInCgroup.FindStringSubmatch(path); c != nil {
				p.Container = c[1]
			}
		}
	}
	if p.UID == "" {
		return Pod{}
	}
	p.Name = env["HOSTNAME"]
	if ns, err := os.ReadFile(HostPath(pid, serviceAccountNamespace)); err == nil {
		p.Namespace = strings.TrimSpace(string(ns))
	}
	return p
}
