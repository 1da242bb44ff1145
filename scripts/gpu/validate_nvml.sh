#!/bin/sh
# GPU validation of the NVML read schedules (issue: NVLink sampling, items 8
# and 9): nvmlbench's ceiling against the per-process (paced) and
# round-robin schedules on 1, 2 and 4 GPUs; `linkprof record --nvml-only`
# with each schedule (samples per GPU, CPU of linkprof and its readers); and
# the known-payload check with the default schedule. Run from the repository
# root on a GPU machine with bin/linkprof and bin/nvmlbench built (see
# docs/validation.md). Results go to $OUT.
set -eu
OUT=${OUT:-/tmp/linkprof-nvml}
export NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1 NVSHMEM_DISABLE_NVLS=1
mkdir -p "$OUT"
nvidia-smi --query-gpu=index,name,driver_version --format=csv > "$OUT/gpus.csv"
nvidia-smi topo -m > "$OUT/topo.txt" 2>&1 || true
cat "$OUT/gpus.csv"

bin/nvmlbench -d "${BENCH_D:-3s}" -warmup 2s -only "per-process,processes,round-robin" | tee "$OUT/nvmlbench.txt"

# CPU of a command and its reaped children (linkprof reaps its readers).
cpu_of() {
	python3 -c '
import resource, subprocess, sys, time
t = time.monotonic()
subprocess.run(sys.argv[1:], check=True)
r = resource.getrusage(resource.RUSAGE_CHILDREN)
wall = time.monotonic() - t
print(f"wall {wall:.1f} s, user {r.ru_utime:.1f} s, sys {r.ru_stime:.1f} s, {100*(r.ru_utime+r.ru_stime)/wall:.0f}% of a core")
' "$@"
}
for s in per-process round-robin; do
	echo "== record --nvml-only --nvml-schedule $s -d 10s"
	cpu_of bin/linkprof record --nvml-only --nvml-schedule "$s" -d 10s -o "$OUT/rec-$s" 2> "$OUT/rec-$s.log" | tee "$OUT/rec-$s.cpu"
	bin/linkprof report "$OUT/rec-$s" --json > "$OUT/rec-$s.report.json"
	python3 -c '
import json, sys
for g in json.load(open(sys.argv[1])).get("gpus", []):
    print("GPU %d: %d samples, %d failed, %.0f Hz" % (g["index"], g["samples"], g["failed_samples"], g["sample_hz"]))
' "$OUT/rec-$s.report.json" | tee "$OUT/rec-$s.gpus"
done

echo "== known payloads, default schedule"
python3 scripts/nvml_gpu_check.py --linkprof bin/linkprof --out "$OUT/check" 2>&1 | tee "$OUT/check.txt"
