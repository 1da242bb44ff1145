#!/bin/sh
# Issue 14's GPU verification: every card collected end to end with the
# stand-in (linkprof collect CARD --standin), on the GPUs present (2 H200s:
# the tp 4 cards run with --tp 2, which card.yaml records as a deviation;
# the burst cards replay a small BurstGPT-format CSV made here; the
# torchtitan card runs the FSDP stand-in). Writes to OUT: table.md (card,
# requests, tok/s, calls and link bytes per op, unattributed share, bursts,
# wall time), compare.txt (linkprof compare of a dense and a MoE card), and
# each card's card.yaml, report.txt, report.json, load.json, standin.json
# and logs (not the traces: they stay in $W).
#   usage: [CARDS="a b"] scripts/gpu/validate_collect.sh OUT     (as root, from the repo, after make build)
# Budget: about 8 minutes on 2x H200; cards not started by DEADLINE seconds
# are listed as skipped.
set -u
OUT=$1
BIN=${BIN:-bin/linkprof}
W=${W:-/tmp/lp-collect}
DEADLINE=${DEADLINE:-450}
rm -rf "$W" && mkdir -p "$W" "$OUT"
export NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1 NVSHMEM_DISABLE_NVLS=1 PYTHONUNBUFFERED=1
GPUS=$(nvidia-smi -L | wc -l)
echo "GPUs: $GPUS; $(python3 -c 'import torch; print("torch", torch.__version__, "NCCL", torch.cuda.nccl.version())' 2>&1)"

# A BurstGPT-format sample: 16 requests over 40 trace seconds (4 s of wall
# time at the cards' time_scale 0.1), in two bursts, lengths like BurstGPT's.
python3 - "$W/burstgpt-sample.csv" <<'PY'
import random, sys
rng = random.Random(14)
rows = ["Timestamp,Model,Request tokens,Response tokens,Total tokens,Log Type"]
for i in range(16):
    t = (0 if i < 8 else 25) + rng.uniform(0, 6)
    q, r = rng.randint(64, 768), rng.randint(8, 48)
    rows.append(f"{t:.3f},ChatGPT,{q},{r},{q + r},Conversation log")
open(sys.argv[1], "w").write("\n".join([rows[0]] + sorted(rows[1:], key=lambda l: float(l.split(",")[0]))) + "\n")
PY

# Order: the compare pair first, then the MoE and dense cards, training last.
# CARDS (space-separated names) collects only those.
[ -n "${CARDS:-}" ] || CARDS="qwen3-32b-tp_2-batch_4-vllm-group_11 qwen3-30b-a3b-tp_2-batch_4-vllm-group_11
$("$BIN" workload list --json | python3 -c '
import json, sys
cards = json.load(sys.stdin)["cards"]
names = [c["name"] for c in cards if c["load"] != "external"] + [c["name"] for c in cards if c["load"] == "external"]
print("\n".join(n for n in names if n not in ("qwen3-32b-tp_2-batch_4-vllm-group_11", "qwen3-30b-a3b-tp_2-batch_4-vllm-group_11")))')"

START=$(date +%s)
: >"$W/runs.tsv"
for card in $CARDS; do
	now=$(date +%s)
	if [ $((now - START)) -gt "$DEADLINE" ]; then
		printf '%s\tskipped\t0\t\n' "$card" >>"$W/runs.tsv"
		continue
	fi
	tp=$("$BIN" workload show "$card" | sed -n 's/^tp: //p')
	args=""
	[ -n "$tp" ] && [ "$tp" -gt "$GPUS" ] && args="--tp $GPUS"
	case $card in
	*torchtitan*) args="$args --steps 8" ;;
	*burst*) args="$args --dataset $W/burstgpt-sample.csv --requests 16" ;;
	*) args="$args --requests 8 --input-len 256 --output-len 32" ;;
	esac
	# Both dispatch ways on the GPUs: DeepSeek-V2-Lite all-gather +
	# reduce-scatter, the Qwen3 MoE cards all-to-all (the default).
	case $card in deepseek*) args="$args --server-arg=--moe-dispatch --server-arg=allgather" ;; esac
	t0=$(date +%s.%N)
	# shellcheck disable=SC2086
	timeout 150 "$BIN" collect "$card" --standin $args --settle 1s --no-progress --ready-timeout 120s \
		-o "$W/$card" >"$W/$card.collect.log" 2>&1
	rc=$?
	t1=$(date +%s.%N)
	printf '%s\t%s\t%s\t%s\n' "$card" "$rc" "$(python3 -c "print(round($t1 - $t0, 1))")" "$args" >>"$W/runs.tsv"
	echo "$card: rc=$rc ($args)"
	# No stand-in may outlive its collection (workers and engine cores by
	# name, API servers and trainers by path; zombies left to PID 1 are
	# dead, not counted).
	left=$(ps -eo pid=,stat=,args= | awk '$2 !~ /^Z/ && /standin-/ && !/awk/')
	[ -n "$left" ] && printf '%s: stand-in processes left:\n%s\n' "$card" "$left"
done

python3 scripts/gpu/collect_table.py "$W" >"$OUT/table.md"
cat "$OUT/table.md"
"$BIN" compare "$W/qwen3-32b-tp_2-batch_4-vllm-group_11" "$W/qwen3-30b-a3b-tp_2-batch_4-vllm-group_11" \
	>"$OUT/compare.txt" 2>&1
echo "compare: rc=$?"
cat "$OUT/compare.txt"
cp "$W/runs.tsv" "$W/burstgpt-sample.csv" "$OUT/"
for d in "$W"/*/; do
	c=$(basename "$d")
	mkdir -p "$OUT/$c"
	for f in card.yaml report.txt report.json load.json standin.json server.log job.log; do
		[ -f "$d/$f" ] && cp "$d/$f" "$OUT/$c/"
	done
	cp "$W/$c.collect.log" "$OUT/$c/" 2>/dev/null
done
echo "total $(($(date +%s) - START)) s"
