#!/bin/sh
# Last validation batch: per-process NVML readers (bench + a real recording)
# and the stand-in server under CUDA graphs, recorded with graph probes.
# usage: scripts/gpu/run_final.sh OUT
set -u
OUT=$1
BIN=bin/linkprof
W=/tmp/lp-final
rm -rf "$W" && mkdir -p "$W" "$OUT"
export NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1 NVSHMEM_DISABLE_NVLS=1 PYTHONUNBUFFERED=1
timeout 90 bin/nvmlbench -d 2s -only process >"$OUT/nvmlbench-process.txt" 2>&1
echo "nvmlbench: rc=$?"
timeout 30 "$BIN" record --nvml-only --nvml-schedule per-process -d 5s -o "$W/perprocess" >"$W/perprocess.log" 2>&1
echo "per-process record: rc=$?"
timeout 200 "$BIN" collect qwen3-32b-tp_2-batch_4-vllm-group_11 --standin --requests 32 --input-len 512 \
	--output-len 64 --no-progress -o "$W/standin-graphs" >"$W/standin-graphs.log" 2>&1
echo "stand-in graphs: rc=$?"
tar czf "$OUT/final.tgz" -C "$W" .
