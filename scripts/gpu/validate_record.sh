#!/bin/sh
# GPU validation of `linkprof record` (issue: record): a torch NCCL workload of
# known traffic on WORLD GPUs; linkprof attaches to the already running ranks;
# the recorded calls and payload bytes must equal what the script issued.
# Run from the repository root on a GPU machine, with bin/linkprof built
# (make build). Results go to $OUT (default /tmp/linkprof-validate).
set -eu
WORLD=${WORLD:-2}
OUT=${OUT:-/tmp/linkprof-validate}
BIN=${BIN:-bin/linkprof}
export NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1 NVSHMEM_DISABLE_NVLS=1
work=$(mktemp -d)
mkdir -p "$OUT"
python3 scripts/gpu/torch_known.py "$OUT/issued-$WORLD.json" "$work/ready" "$work/go" --world "$WORLD" &
py=$!
for r in $(seq 0 $((WORLD - 1))); do
	while [ ! -f "$work/ready/rank$r.pid" ]; do sleep 0.1; done
done
echo "ranks ready: $(cat "$work"/ready/*.pid | tr '\n' ' ')"
"$BIN" record -p "$py" --children -o "$work/rec" --ready-file "$work/attached" ${RECORD_FLAGS:-} &
rec=$!
while [ ! -f "$work/attached" ]; do sleep 0.05; done
touch "$work/go"
wait "$py"
wait "$rec" || true
"$BIN" dump "$work/rec" > "$work/events.jsonl"
python3 scripts/gpu/check_counts.py "$OUT/issued-$WORLD.json" "$work/events.jsonl" | tee "$OUT/record-check-$WORLD.md"
cp -r "$work/rec" "$OUT/rec-$WORLD" 2>/dev/null || true
