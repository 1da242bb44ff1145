#!/bin/bash
# Record a multi-node Slurm job with linkprof: one recorder per node, a
# folder per host under OUT, then one merged view (docs/fleet.md, "Slurm").
# Run it inside the allocation (an sbatch script or salloc) in place of the
# job's own srun line:
#
#   scripts/slurm-record.sh [-o OUT] [-p PATTERN] [-s] [-l LINKPROF] [-r 'RECORD FLAGS'] -- COMMAND [ARGS...]
#
#   -o OUT       where the folders go, on a file system every node sees
#                (default: linkprof-$SLURM_JOB_ID in the current folder)
#   -p PATTERN   --pid-of pattern of the job's processes on each node
#                (default: COMMAND ARGS, regexp-quoted; children are followed)
#   -s           run linkprof through sudo -n (it needs root on each node)
#   -l LINKPROF  the linkprof binary (default: linkprof on PATH)
#   -r FLAGS     more linkprof record flags, e.g. '--rotate 10m --keep 12'
#
# What it does: srun starts one `linkprof record --pid-of PATTERN --watch`
# per node in the background (an overlapping step: it takes no CPU the job
# asked for), writing OUT/HOST; once every recorder has attached
# (OUT/.ready/HOST), `srun COMMAND ARGS` runs the job; when it ends the
# recorders get SIGTERM, close and analyse their folders, and
# `linkprof merge -o OUT/merged OUT/HOST...` makes the one view of the job
# (not with --rotate in -r: each host then has a folder per period).
# The script exits with the job's status.
set -u

usage() {
	sed -n '7,14p' "$0" >&2
	exit 2
}

out="linkprof-${SLURM_JOB_ID:-job}"
pattern=""
sudo=()
linkprof=linkprof
extra=""
while getopts "o:p:sl:r:h" opt; do
	case $opt in
	o) out=$OPTARG ;;
	p) pattern=$OPTARG ;;
	s) sudo=(sudo -n) ;;
	l) linkprof=$OPTARG ;;
	r) extra=$OPTARG ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))
[ "${1:-}" = "--" ] && shift
[ $# -gt 0 ] || usage
: "${SLURM_JOB_NUM_NODES:?not inside a Slurm allocation (run it from sbatch or salloc)}"

if [ -z "$pattern" ]; then
	# shellcheck disable=SC2016 # a sed expression, not a shell one
	pattern=$(printf '%s' "$*" | sed 's/[][\.*^$(){}+?|/]/\\&/g')
fi
mkdir -p "$out/.ready" || exit 1
out=$(cd "$out" && pwd)
nodes=$SLURM_JOB_NUM_NODES

# One recorder per node. SLURMD_NODENAME names the node in each task.
# shellcheck disable=SC2016 # expanded by the task's shell, on its node
node_cmd='host=${SLURMD_NODENAME:-$(hostname -s)}
exec "$@" record --pid-of "$LP_PATTERN" --watch -o "$LP_OUT/$host" --ready-file "$LP_OUT/.ready/$host" $LP_EXTRA'
LP_PATTERN=$pattern LP_OUT=$out LP_EXTRA=$extra \
	srun --overlap --nodes="$nodes" --ntasks-per-node=1 --kill-on-bad-exit=0 \
	bash -c "$node_cmd" slurm-record "${sudo[@]}" "$linkprof" &
recorders=$!

# The job starts once every node's recorder is attached.
for _ in $(seq 600); do
	ready=$(find "$out/.ready" -type f | wc -l)
	[ "$ready" -ge "$nodes" ] && break
	if ! kill -0 "$recorders" 2>/dev/null; then
		echo "slurm-record: a recorder exited before attaching (see above)" >&2
		exit 1
	fi
	sleep 0.2
done
if [ "$ready" -lt "$nodes" ]; then
	echo "slurm-record: $ready of $nodes recorders ready after 2 minutes; stopping" >&2
	kill -TERM "$recorders"
	wait "$recorders"
	exit 1
fi

srun "$@"
status=$?

# srun hands SIGTERM on to every recorder: each closes and analyses its
# folder before exiting.
kill -TERM "$recorders"
wait "$recorders"

hosts=()
for d in "$out"/*/; do
	d=${d%/}
	[ "$(basename "$d")" = merged ] || hosts+=("$d")
done
if [ "${#hosts[@]}" -gt 0 ] && [ ! -e "${hosts[0]}/trace.lpt" ]; then
	# --rotate: each host folder holds one folder per period, which do
	# not line up across hosts; there is no one recording per host to merge.
	echo "slurm-record: continuous mode (--rotate): per-host folders of periods in $out; merge matching ones with linkprof merge -o DIR $out/HOST/PERIOD ..." >&2
elif "$linkprof" help merge >/dev/null 2>&1; then
	"$linkprof" merge -o "$out/merged" "${hosts[@]}" || echo "slurm-record: merge failed; the per-host folders are intact" >&2
else
	echo "slurm-record: this linkprof has no merge; per-host folders in $out (later: linkprof merge -o $out/merged ${hosts[*]})" >&2
fi
exit "$status"
