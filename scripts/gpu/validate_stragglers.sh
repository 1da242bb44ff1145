#!/bin/sh
# Stragglers and stalls on 2 GPUs (docs/stragglers.md), under 5 minutes:
#   delay  a torch all-reduce loop, rank 1 sleeping 20 ms before each call:
#          rank 1 last in >= 95% of collectives, rank 0's wait 20 ms +-10%;
#   stop   the same loop, rank 1 SIGSTOPping itself mid-loop: the stall
#          reported live within 2 s naming rank 1 and its pending
#          collective (--stall-after 1s, --on-stall shows the ranks' state),
#          the recording still ending cleanly.
# usage: scripts/gpu/validate_stragglers.sh OUT   (repository root, bin/linkprof built)
# OUT gets check.txt (PASS/FAIL per check), the logs and results.tgz (both
# recording folders: report.txt, report.json, profile.pb.gz, timeline.json).
set -u
OUT=$1
BIN=bin/linkprof
W=/tmp/lp-stragglers
rm -rf "$W" && mkdir -p "$W" "$OUT"
export NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1 NVSHMEM_DISABLE_NVLS=1 PYTHONUNBUFFERED=1
nvidia-smi -L >"$OUT/gpus.txt" 2>&1

timeout 180 "$BIN" record --stacks -o "$W/delay" -- \
	python3 scripts/gpu/torch_stragglers.py delay "$W/delay-truth" --iters 200 --delay-ms 20 >"$W/delay.log" 2>&1
echo "delay: rc=$?" | tee -a "$OUT/rc.txt"

# The stopped loop never ends: record for a fixed time, then kill its
# processes by the pids it wrote.
ONSTALL='for p in $LINKPROF_STALL_PIDS; do printf "pid %s: " $p; grep State /proc/$p/status; done; echo "missing: $LINKPROF_STALL_MISSING_PIDS comm $LINKPROF_STALL_COMM seq $LINKPROF_STALL_SEQ $LINKPROF_STALL_OP"'
timeout 150 "$BIN" record --stall-after 1s --on-stall "$ONSTALL" -d 40s -o "$W/stop" -- \
	python3 scripts/gpu/torch_stragglers.py stop "$W/stop-truth" --stop-at 100 >"$W/stop.log" 2>&1
echo "stop: rc=$?" | tee -a "$OUT/rc.txt"
for f in "$W"/stop-truth/rank-*.json; do
	pid=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["pid"])' "$f") && kill -9 "$pid" 2>/dev/null
done
[ -f "$W/stop-truth/parent.pid" ] && kill -9 "$(cat "$W/stop-truth/parent.pid")" 2>/dev/null

python3 scripts/gpu/check_stragglers.py "$W" >"$OUT/check.txt" 2>&1
echo "check: rc=$?" | tee -a "$OUT/rc.txt"
cat "$OUT/check.txt"
cp "$W"/*.log "$OUT/" 2>/dev/null
tar czf "$OUT/results.tgz" -C "$W" .
ls -la "$OUT"
