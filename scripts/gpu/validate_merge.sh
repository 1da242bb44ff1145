#!/bin/sh
# linkprof merge on 2 GPUs (docs/design.md, "Merging hosts"), under 5 minutes:
# a 2-rank torch job (scripts/gpu/merge_job.py) run as two "hosts", each
# rank launched under its own recorder sampling only its own GPU, the ranks
# meeting through torch's TCP store as two nodes' would; then the same job
# under one recorder. Checks (check_merge.py): every NCCL communicator
# creation carries a unique id, the same set on both hosts (real NCCL
# 2.28, ncclCommInitRankConfig: the id read from the caller's stack); the
# merge places host b within 1 ms of host a (one machine) and matches every
# communicator's collectives across the hosts as the single recording does;
# calls and payload per op equal the single recording's, attributed TX
# within 2% of it.
# usage: scripts/gpu/validate_merge.sh OUT   (repository root, bin/linkprof built)
# OUT gets check.txt (PASS/FAIL per check), the logs, the merged reports and results.tgz.
set -u
OUT=$1
BIN=bin/linkprof
W=/tmp/lp-merge
rm -rf "$W" && mkdir -p "$W" "$OUT"
export NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1 NVSHMEM_DISABLE_NVLS=1 PYTHONUNBUFFERED=1
nvidia-smi -L >"$OUT/gpus.txt" 2>&1

timeout 180 "$BIN" record --gpus 0 -o "$W/a" -- python3 scripts/gpu/merge_job.py "$W/truth-a.json" \
	--world 2 --first 0 --local 1 --port 29555 >"$W/a.log" 2>&1 &
A=$!
timeout 180 "$BIN" record --gpus 1 -o "$W/b" -- python3 scripts/gpu/merge_job.py "$W/truth-b.json" \
	--world 2 --first 1 --local 1 --port 29555 >"$W/b.log" 2>&1
echo "record b: rc=$?" | tee -a "$OUT/rc.txt"
wait $A
echo "record a: rc=$?" | tee -a "$OUT/rc.txt"
timeout 180 "$BIN" record -o "$W/one" -- python3 scripts/gpu/merge_job.py "$W/truth-one.json" \
	--world 2 --first 0 --local 2 --port 29556 >"$W/one.log" 2>&1
echo "record one: rc=$?" | tee -a "$OUT/rc.txt"

"$BIN" merge -o "$W/merged" "$W/a" "$W/b" >"$W/merge.log" 2>&1
echo "merge: rc=$?" | tee -a "$OUT/rc.txt"
"$BIN" merge --clock collectives -o "$W/merged-collectives" "$W/a" "$W/b" >"$W/merge-collectives.log" 2>&1
echo "merge --clock collectives: rc=$?" | tee -a "$OUT/rc.txt"
"$BIN" dump "$W/a" >"$W/a.dump" 2>&1
"$BIN" dump "$W/b" >"$W/b.dump" 2>&1

python3 scripts/gpu/check_merge.py "$W" >"$OUT/check.txt" 2>&1
echo "check: rc=$?" | tee -a "$OUT/rc.txt"
cat "$OUT/check.txt"
cp "$W"/*.log "$OUT/" 2>/dev/null
for d in merged merged-collectives one; do cp "$W/$d/report.txt" "$OUT/report-$d.txt" 2>/dev/null; done
tar czf "$OUT/results.tgz" -C "$W" --exclude='*.dump' .
ls -la "$OUT"
