#!/bin/sh
# The GPU validations that record, batched for one call on a GPU machine
# (4 GPUs). Recording folders are analyzed afterwards on any machine:
#   go run ./scripts/gpu/attribcheck DIR DIR-phases.json
# usage: scripts/gpu/run_all.sh OUT   (from the repository root, bin/linkprof built)
set -u
OUT=$1
BIN=bin/linkprof
W=/tmp/lp-validate
rm -rf "$W" && mkdir -p "$W" "$OUT"
export NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1 NVSHMEM_DISABLE_NVLS=1 PYTHONUNBUFFERED=1
for w in 2 4; do
	timeout 240 "$BIN" record --no-analyze -o "$W/attrib-$w" -- \
		python3 scripts/gpu/torch_attrib.py "$W/attrib-$w-phases.json" --world "$w" >"$W/attrib-$w.log" 2>&1
	echo "attrib world $w: rc=$?"
done
timeout 240 python3 scripts/nvml_gpu_check.py --linkprof "$BIN" --out "$W/nvmlcheck" >"$OUT/nvmlcheck.txt" 2>&1
echo "nvml check: rc=$?"
card=qwen3-32b-tp_2-batch_4-vllm-group_11
"$BIN" workload show $card | sed 's/cuda_graphs: true/cuda_graphs: false/' >"$W/eager.yaml"
for mode in graphs eager; do
	src=$card
	[ $mode = eager ] && src="$W/eager.yaml"
	timeout 300 "$BIN" collect "$src" --standin --requests 32 --input-len 512 --output-len 64 --no-progress \
		-o "$W/standin-$mode" >"$W/standin-$mode.log" 2>&1
	echo "stand-in $mode: rc=$?"
done
if [ -f scripts/gpu_graphs.py ]; then
	timeout 240 "$BIN" record --no-analyze -o "$W/graphs" -- python3 scripts/gpu_graphs.py >"$W/graphs.log" 2>&1
	echo "graphs: rc=$?"
fi
tar czf "$OUT/results.tgz" -C "$W" .
ls -la "$OUT"
