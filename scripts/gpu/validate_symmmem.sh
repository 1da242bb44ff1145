#!/bin/sh
# Issue 19's GPU validation of torch symmetric memory (2 GPUs, torch with
# NCCL, nvidia-ml-py): scripts/gpu/phasemix.py --set symm* runs phases of one
# operator each (one-shot all-reduce 64 KiB and 1 MiB, two-shot 4 and 32
# MiB, reduce_scatter_out 8 MiB), eager, then captured into CUDA graphs
# while recording and replayed (symmphases.py). Three recordings: eager and
# graph phases in launch mode, all of them attached after the ranks made
# their symmetric buffers. Truth is each phase's NVLink DATA_TX from the
# recording's own NVML samples (internal/phasetruth); the table per op is
# attribcheck's: truth, attributed, ratio, calls issued and counted.
#
#   make build && go build -o bin/attribcheck ./scripts/gpu/attribcheck   (here)
#   scripts/gpu/validate_symmmem.sh OUT                                   (GPU box, bin/ carried)
#
# OUT gets summary.txt (return codes, the TensorImpl numel offset torch
# has, the symbols linkprof attached in libtorch_cuda.so with their
# addresses, raw event counts, the tables when bin/attribcheck exists) and
# the recordings as symm.tgz.* parts; elsewhere, per recording:
#   go run ./scripts/gpu/attribcheck REC REC-phases.json
set -u
OUT=$1
BIN=bin/linkprof
W=/tmp/lp-symm
S="$OUT/summary.txt"
rm -rf "$W" && mkdir -p "$W" "$OUT"
export NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1 NVSHMEM_DISABLE_NVLS=1 PYTHONUNBUFFERED=1
: >"$S"

# Launch mode: the operators' first calls, the captures, every replay.
port=29561
for set in symm-eager symm-graph; do
	timeout 300 "$BIN" record -o "$W/$set" -- \
		python3 scripts/gpu/phasemix.py "$W/$set-phases.json" --world 2 --set $set --port $port >"$W/$set.log" 2>&1
	echo "$set, launch: rc=$?" >>"$S"
	port=$((port + 1))
done

# Attach mode: the buffers and the group's rendezvous exist before linkprof.
python3 scripts/gpu/phasemix.py "$W/attach-phases.json" --world 2 --set symm --wait-file "$W/ready" --port $port \
	>"$W/attach-app.log" 2>&1 &
app=$!
for _ in $(seq 900); do [ -f "$W/attach-phases.json.inited" ] && break; sleep 0.1; done
"$BIN" doctor -p "$app" >"$W/doctor.txt" 2>&1
timeout 300 "$BIN" record -p "$app" --ready-file "$W/ready" -o "$W/attach" >"$W/attach.log" 2>&1
echo "symm, attach: rc=$?" >>"$S"
wait "$app"

{
	echo
	grep -h "tensor_numel_offset" "$W"/*.log | sort -u
	echo
	echo "libtorch_cuda.so as linkprof doctor saw it (what record probes):"
	grep -i "libtorch_cuda" "$W/doctor.txt"
	lib=$(python3 -c 'import os, torch; print(os.path.join(os.path.dirname(torch.__file__), "lib", "libtorch_cuda.so"))')
	echo
	echo "their addresses ($lib, readelf -Ws):"
	for sym in $(grep -i "libtorch_cuda" "$W/doctor.txt" | sed 's/.*would probe //; s/;.*//'); do
		readelf -Ws --wide "$lib" | awk -v s="$sym" '$8 == s { print $2, $3, $5, $8 }'
	done
	echo
	echo "raw symmetric memory events per recording (capture-time calls included, replays not):"
	for rec in symm-eager symm-graph attach; do
		printf '%s: ' $rec
		"$BIN" dump "$W/$rec" | python3 -c '
import collections, json, sys
c = collections.Counter(json.loads(l)["kind"] for l in sys.stdin)
print(" ".join(f"{k}={n}" for k, n in sorted(c.items()) if k.startswith("SymmMem")) or "none")'
	done
	if [ -x bin/attribcheck ]; then
		for rec in symm-eager symm-graph attach; do
			echo
			echo "== $rec"
			bin/attribcheck "$W/$rec" "$W/$rec-phases.json"
		done
	fi
} >>"$S" 2>&1
nvidia-smi topo -m >"$W/topo.txt" 2>&1
tar czf "$W.tgz" -C "$W" . && split -b 15m "$W.tgz" "$OUT/symm.tgz."
cat "$S"
ls -la "$OUT"
