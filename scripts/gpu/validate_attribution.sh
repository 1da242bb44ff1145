#!/bin/sh
# Issue 11's GPU validation, batched for one call on a GPU machine: the
# phase mix recorded in launch mode and attached to running ranks, and the
# stand-in server (eager and CUDA graphs) attached after it started, under
# load. Recordings are not analyzed here: they come back in OUT (split
# into parts) to be analyzed anywhere:
#   go run ./scripts/gpu/attribcheck REC phases.json
# usage: scripts/gpu/validate_attribution.sh OUT [WORLD]
set -u
OUT=$1
WORLD=${2:-2}
BIN=bin/linkprof
W=/tmp/lp-attrib
rm -rf "$W" && mkdir -p "$W" "$OUT"
export NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1 NVSHMEM_DISABLE_NVLS=1 PYTHONUNBUFFERED=1

# Launch mode: recorded from the first instruction.
timeout 240 "$BIN" record --no-analyze -o "$W/launch" -- \
	python3 scripts/gpu/phasemix.py "$W/launch-phases.json" --world "$WORLD" >"$W/launch.log" 2>&1
echo "phase mix, launch: rc=$?"

# Attach mode: the ranks made their communicators before linkprof came.
python3 scripts/gpu/phasemix.py "$W/attach-phases.json" --world "$WORLD" --wait-file "$W/ready" --port 29546 \
	>"$W/attach-app.log" 2>&1 &
app=$!
for _ in $(seq 600); do [ -f "$W/attach-phases.json.inited" ] && break; sleep 0.1; done
timeout 240 "$BIN" record --no-analyze -p "$app" --ready-file "$W/ready" -o "$W/attach" >"$W/attach.log" 2>&1
echo "phase mix, attach: rc=$?"
wait "$app"

# The stand-in served model, attached after start-up (its CUDA graphs were
# captured before the recording), eager and with graphs.
port=8123
for mode in eager graphs; do
	flag=""
	[ $mode = graphs ] && flag=--cuda-graphs
	python3 scripts/standin/server.py --tp "$WORLD" --batch 4 --port $port $flag >"$W/server-$mode.log" 2>&1 &
	srv=$!
	for _ in $(seq 1200); do python3 -c "import urllib.request,sys; urllib.request.urlopen(sys.argv[1], timeout=1)" "http://127.0.0.1:$port/health" >/dev/null 2>&1 && break; sleep 0.1; done
	timeout 120 "$BIN" record --no-analyze -p "$srv" -d 25s -o "$W/served-$mode" >"$W/served-$mode.log" 2>&1 &
	rec=$!
	sleep 3
	timeout 60 "$BIN" workload run qwen3-32b-tp_2-batch_4-vllm-group_11 --url "http://127.0.0.1:$port" \
		--model standin --requests 48 --input-len 512 --output-len 64 --no-progress >"$W/load-$mode.log" 2>&1
	echo "load $mode: rc=$?"
	wait $rec
	echo "served $mode: rc=$?"
	kill -9 $srv 2>/dev/null; pkill -9 -f scripts/standin/server.py; sleep 2
	port=$((port + 1))
done
nvidia-smi topo -m >"$W/topo.txt" 2>&1
tar czf "$W.tgz" -C "$W" . && split -b 15m "$W.tgz" "$OUT/attrib.tgz."
ls -la "$OUT"
