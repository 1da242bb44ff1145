#!/bin/sh
# The path table on 2 GPUs (docs/attribution.md section 7a), under 3 minutes:
# torch_paths.py all-reduces 64 KiB to 32 MiB, each size through torch
# symmetric memory (two-shot) below a threshold and NCCL from it on, as
# vLLM routes them; recorded twice, threshold 1 MiB (A: 1 MiB itself goes
# to NCCL) and 8 MiB (B). check_paths.py: every size one row with exactly
# the calls made, on the chosen path; 32 MiB NCCL over 50 GB/s; the sizes
# B moved show on B's path. Needs the symmetric-memory probes (profiler/extra).
# usage: scripts/gpu/validate_paths.sh OUT   (repository root, bin/linkprof built)
# OUT gets check.txt, compare.txt (linkprof compare A B), both report.txt
# and results.tgz (both recording folders).
set -u
OUT=$1
BIN=bin/linkprof
W=/tmp/lp-paths
rm -rf "$W" && mkdir -p "$W" "$OUT"
export NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1 NVSHMEM_DISABLE_NVLS=1 PYTHONUNBUFFERED=1
nvidia-smi -L >"$OUT/gpus.txt" 2>&1
for run in "A 1048576" "B 8388608"; do
	set -- $run # name, threshold (OUT is kept above)
	timeout 240 "$BIN" record -o "$W/$1" -- python3 scripts/gpu/torch_paths.py "$W/$1-truth" --threshold "$2" >"$W/$1.log" 2>&1
	echo "$1 (threshold $2): rc=$?" | tee -a "$OUT/rc.txt"
	cp "$W/$1/report.txt" "$OUT/report-$1.txt" 2>/dev/null
done
"$BIN" compare "$W/A" "$W/B" >"$OUT/compare.txt" 2>&1
python3 scripts/gpu/check_paths.py "$W/A" "$W/B" >"$OUT/check.txt" 2>&1
echo "check: rc=$?" | tee -a "$OUT/rc.txt"
cat "$OUT/check.txt" "$OUT/compare.txt"
cp "$W"/*.log "$OUT/" 2>/dev/null
tar czf "$OUT/results.tgz" -C "$W" .
ls -la "$OUT"
