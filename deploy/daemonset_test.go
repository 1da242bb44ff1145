package deploy

import (
	"errors"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	kjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"

	"github.com/linkprof/linkprof/profiler"
)

const manifest = "linkprof-daemonset.yaml"

// decode reads a DaemonSet strictly, as the API server's strict field
// validation does: field names case-sensitive, an unknown or repeated
// field an error. A typo in the manifest fails here, not on a cluster.
func decode(t *testing.T, data []byte) (*appsv1.DaemonSet, error) {
	t.Helper()
	var ds appsv1.DaemonSet
	js, err := yaml.YAMLToJSONStrict(data)
	if err != nil {
		return nil, err
	}
	strict, err := kjson.UnmarshalStrict(js, &ds, kjson.DisallowDuplicateFields, kjson.DisallowUnknownFields)
	if err == nil {
		err = errors.Join(strict...)
	}
	return &ds, err
}

func load(t *testing.T) *appsv1.DaemonSet {
	t.Helper()
	data, err := os.ReadFile(manifest)
	if err != nil {
		t.Fatal(err)
	}
	ds, err := decode(t, data)
	if err != nil {
		t.Fatalf("%s: %v", manifest, err)
	}
	if ds.APIVersion != "apps/v1" || ds.Kind != "DaemonSet" {
		t.Fatalf("%s is a %s %s, want an apps/v1 DaemonSet", manifest, ds.APIVersion, ds.Kind)
	}
	return ds
}

// The strict decoding catches typos: each of these misspells one field.
func TestTyposFailDecoding(t *testing.T) {
	data, err := os.ReadFile(manifest)
	if err != nil {
		t.Fatal(err)
	}
	for _, typo := range [][2]string{
		{"hostPID:", "hostPid:"},
		{"readOnlyRootFilesystem:", "readOnlyRootFileSystem:"},
		{"mountPath: /sys/kernel/btf", "mountpath: /sys/kernel/btf"},
		{"nodeSelector:", "nodeSelectors:"},
	} {
		bad := strings.Replace(string(data), typo[0], typo[1], 1)
		if bad == string(data) {
			t.Fatalf("%q is not in the manifest", typo[0])
		}
		if _, err := decode(t, []byte(bad)); err == nil {
			t.Errorf("%q for %q decoded without error", typo[1], typo[0])
		}
	}
}

// The pod gets what recording needs and nothing more: the node's pids,
// exactly the capabilities linkprof checks for (profiler's own list), no
// privileged mode, BTF read-only, the recordings folder, no tracefs,
// debugfs or BPF filesystem.
func TestPrivilegesAreWhatRecordingNeeds(t *testing.T) {
	ds := load(t)
	pod := ds.Spec.Template.Spec
	if !pod.HostPID {
		t.Error("hostPID is not set: /proc would show only the pod's own processes")
	}
	if pod.HostNetwork || pod.HostIPC {
		t.Error("hostNetwork or hostIPC set: recording needs neither")
	}
	if len(pod.Containers) != 1 {
		t.Fatalf("%d containers, want 1", len(pod.Containers))
	}
	c := pod.Containers[0]
	sc := c.SecurityContext
	if sc == nil || sc.Capabilities == nil {
		t.Fatal("no securityContext.capabilities")
	}
	var want []string
	for _, name := range profiler.ContainerCapabilities() {
		want = append(want, strings.TrimPrefix(name, "CAP_"))
	}
	var got []string
	for _, c := range sc.Capabilities.Add {
		got = append(got, string(c))
	}
	slices.Sort(want)
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("capabilities added %v, want exactly %v (profiler.ContainerCapabilities)", got, want)
	}
	if len(sc.Capabilities.Drop) != 1 || sc.Capabilities.Drop[0] != "ALL" {
		t.Errorf("capabilities dropped %v, want [ALL]", sc.Capabilities.Drop)
	}
	switch {
	case sc.Privileged == nil || *sc.Privileged:
		t.Error("privileged must be set to false")
	case sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation:
		t.Error("allowPrivilegeEscalation must be false")
	case sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem:
		t.Error("readOnlyRootFilesystem must be true")
	}
	checkMounts(t, pod, c)
}

func checkMounts(t *testing.T, pod corev1.PodSpec, c corev1.Container) {
	t.Helper()
	host := map[string]string{} // volume name -> host path
	for _, v := range pod.Volumes {
		if v.HostPath != nil {
			host[v.Name] = v.HostPath.Path
		}
	}
	mounted := map[string]corev1.VolumeMount{} // host path -> mount
	for _, m := range c.VolumeMounts {
		if p, ok := host[m.Name]; ok {
			mounted[p] = m
		}
	}
	if m, ok := mounted["/sys/kernel/btf"]; !ok || m.MountPath != "/sys/kernel/btf" || !m.ReadOnly {
		t.Errorf("BTF: %+v, want /sys/kernel/btf mounted read-only", m)
	}
	out, ok := mounted["/var/lib/linkprof"]
	if !ok || out.ReadOnly {
		t.Errorf("recordings: %+v, want /var/lib/linkprof mounted writable", out)
	}
	if !slices.ContainsFunc(c.Args, func(a string) bool { return strings.HasPrefix(a, "--output="+out.MountPath+"/") }) {
		t.Errorf("args %v: --output is not under the recordings mount %s", c.Args, out.MountPath)
	}
	for _, p := range []string{"/sys/fs/bpf", "/sys/kernel/debug", "/sys/kernel/tracing", "/proc", "/"} {
		if _, ok := mounted[p]; ok {
			t.Errorf("%s is mounted: recording does not need it", p)
		}
	}
	if len(host) != 2 {
		t.Errorf("host paths %v: want only BTF and the recordings", host)
	}
}

// It runs on GPU nodes only, tolerates their taint, reaches NVML without
// taking a GPU, and serves the metrics Prometheus is told to scrape.
func TestGPUNodesNVMLAndMetrics(t *testing.T) {
	ds := load(t)
	tpl := ds.Spec.Template
	pod := tpl.Spec
	c := pod.Containers[0]
	if pod.NodeSelector["nvidia.com/gpu.present"] != "true" {
		t.Errorf("nodeSelector %v: want nvidia.com/gpu.present=true", pod.NodeSelector)
	}
	if !slices.ContainsFunc(pod.Tolerations, func(tl corev1.Toleration) bool {
		return tl.Key == "nvidia.com/gpu" && tl.Operator == corev1.TolerationOpExists && tl.Effect == corev1.TaintEffectNoSchedule
	}) {
		t.Errorf("tolerations %v: want nvidia.com/gpu Exists NoSchedule", pod.Tolerations)
	}
	if pod.RuntimeClassName == nil || *pod.RuntimeClassName != "nvidia" || env(c, "NVIDIA_VISIBLE_DEVICES") != "all" ||
		!strings.Contains(env(c, "NVIDIA_DRIVER_CAPABILITIES"), "utility") {
		t.Error("NVML: want runtimeClassName nvidia, NVIDIA_VISIBLE_DEVICES=all and the utility capability")
	}
	if _, takes := c.Resources.Limits["nvidia.com/gpu"]; takes {
		t.Error("the recorder takes a GPU from the device plugin")
	}
	port := ""
	for _, p := range c.Ports {
		if p.Name == "metrics" {
			port = itoa(p.ContainerPort)
		}
	}
	if port == "" || !slices.Contains(c.Args, "--metrics=:"+port) || tpl.Annotations["prometheus.io/port"] != port {
		t.Errorf("metrics: port %q, args %v, annotations %v: want one port everywhere", port, c.Args, tpl.Annotations)
	}
	for k, v := range ds.Spec.Selector.MatchLabels {
		if tpl.Labels[k] != v {
			t.Errorf("selector %s=%s does not match the template's labels", k, v)
		}
	}
}

func env(c corev1.Container, name string) string {
	for _, e := range c.Env {
		if e.Name == name {
			return e.Value
		}
	}
	return ""
}

func itoa(n int32) string { return strconv.Itoa(int(n)) }
