#!/bin/sh
# GPU validation of continuous mode and live metrics (docs/fleet.md): the
# torch workload of known traffic (torch_known.py) on WORLD GPUs, recorded
# with --rotate 2s and --metrics while /metrics is scraped every second.
# check_fleet.py then compares, per op: the calls issued, the calls on
# /metrics (live), the calls summed over every folder's report; and the
# attributed and unattributed bytes on /metrics with the sums of the
# reports analysed, and the live NVLink bytes with the reports' GPU bytes.
# Run from the repository root on a GPU machine with bin/linkprof built
# (make build). Results go to $OUT (default /tmp/linkprof-fleet). --watch keeps
# the recorder (and /metrics) up after the workload exits, for the last scrape.
set -eu
WORLD=${WORLD:-2}
OUT=${OUT:-/tmp/linkprof-fleet}
BIN=${BIN:-bin/linkprof}
PORT=${PORT:-9411}
export NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1 NVSHMEM_DISABLE_NVLS=1
work=$(mktemp -d)
mkdir -p "$OUT/scrapes"
python3 scripts/gpu/torch_known.py "$OUT/issued.json" "$work/ready" "$work/go" --world "$WORLD" --repeat 10 --gap-ms 100 &
py=$!
for r in $(seq 0 $((WORLD - 1))); do
	while [ ! -f "$work/ready/rank$r.pid" ]; do sleep 0.1; done
done
"$BIN" record --pid-of "torch_known[.]py" --watch --rotate 2s --keep 1000 --metrics "127.0.0.1:$PORT" -o "$OUT/rec" \
	--ready-file "$work/attached" 2>"$OUT/record.log" &
rec=$!
while [ ! -f "$work/attached" ]; do sleep 0.05; done
touch "$work/go"
n=0
while kill -0 "$py" 2>/dev/null; do
	python3 -c "import urllib.request,sys; sys.stdout.write(urllib.request.urlopen('http://127.0.0.1:$PORT/metrics').read().decode())" \
		>"$OUT/scrapes/$(printf %04d $n).txt" || true
	n=$((n + 1))
	sleep 1
done
sleep 6 # the pump's poll and two more folders analysed
python3 -c "import urllib.request,sys; sys.stdout.write(urllib.request.urlopen('http://127.0.0.1:$PORT/metrics').read().decode())" \
	>"$OUT/scrapes/last.txt"
kill -INT "$rec"
wait "$rec" || true
python3 scripts/gpu/check_fleet.py "$OUT/issued.json" "$OUT/scrapes/last.txt" "$OUT/rec" | tee "$OUT/fleet-check.md"
