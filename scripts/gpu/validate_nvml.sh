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

# shellcheck disable=SC2086 # BENCH_EXTRA holds flags
bin/nvmlbench -d "${BENCH_D:-3s}" -warmup "${BENCH_WARMUP:-2s}" -only "${BENCH_ONLY:-per-process,processes,round-robin}" ${BENCH_EXTRA:-} | tee "$OUT/nvmlbench.txt"

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
# Each entry of RECS (';'-separated) is one recording's NVML flags.
RECS=${RECS:-"--nvml-schedule per-process;--nvml-schedule round-robin"}
n=0
echo "$RECS" | tr ';' '\n' | while read -r flags; do
	n=$((n + 1))
	s=rec$n
	echo "== record --nvml-only $flags -d ${REC_D:-10s}"
	# shellcheck disable=SC2086 # flags are words
	cpu_of bin/linkprof record --nvml-only --no-analyze $flags -d "${REC_D:-10s}" -o "$OUT/$s" 2> "$OUT/$s.log" < /dev/null | tee "$OUT/$s.cpu"
	bin/linkprof dump --samples "$OUT/$s" | python3 -c '
import json, sys
first, counts, failed = None, {}, {}
for line in sys.stdin:
    s = json.loads(line)
    first = first or s["mono_before_ns"]
    sec = (s["mono_before_ns"] - first) // 10**9
    g = counts.setdefault(s["gpu"], {})
    g[sec] = g.get(sec, 0) + s["ok"]
    failed[s["gpu"]] = failed.get(s["gpu"], 0) + (not s["ok"])
for gpu, g in sorted(counts.items()):
    secs = [g.get(i, 0) for i in range(max(g))]
    print("GPU %d: %d samples, %d failed; per second: %s" % (gpu, sum(g.values()), failed[gpu], secs))
' | tee "$OUT/$s.gpus"
	rm -rf "${OUT:?}/$s"
done

for s in ${CHECKS-per-process round-robin}; do
	echo "== known payloads, --nvml-schedule $s"
	python3 scripts/nvml_gpu_check.py --linkprof bin/linkprof --out "$OUT/check-$s" --record-flags "--nvml-schedule $s --no-analyze" 2>&1 |
		grep -v '^recording ' | tee "$OUT/check-$s.txt"
	rm -rf "$OUT/check-$s"
done
