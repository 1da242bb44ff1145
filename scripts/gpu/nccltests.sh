#!/bin/sh
# NVIDIA's nccl-tests as linkprof's validation suite (issue: one process,
# many GPUs). Builds nccl-tests against torch's NCCL (and with MPI=1 when
# mpicc is there), then records every perf test in three modes under
# linkprof: one process driving both GPUs (-g 2), one process with a
# thread per GPU (-t 2), and two processes (mpirun -np 2). Recordings and
# nccl-tests' own output are compared there by bin/ncclcheck when carried
# (go build -o bin/ncclcheck ./scripts/gpu/ncclcheck), else anywhere with
# go run ./scripts/gpu/ncclcheck DIR; OUT gets the table, the outputs and a
# few recordings
#
# usage: scripts/gpu/nccltests.sh OUT [SRC]   (SRC: an nccl-tests checkout,
#        default .nccl-tests; git clone https://github.com/NVIDIA/nccl-tests)
set -u
OUT=$1
SRC=${2:-.nccl-tests}
BIN=$(pwd)/bin/linkprof
W=/tmp/lp-nccltests
ARGS="-b 64K -e 64M -f 4 -n 20 -w 5"
TESTS=${TESTS:-"all_reduce all_gather reduce_scatter alltoall alltoallv broadcast reduce gather scatter sendrecv hypercube"}
MODES=${MODES:-"g2 t2 p2"}
rm -rf "$W" && mkdir -p "$W" "$OUT"
export NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1 NVSHMEM_DISABLE_NVLS=1
NCCL_HOME=$(python3 -c "import nvidia.nccl, os; print(nvidia.nccl.__path__[0])")
export LD_LIBRARY_PATH="$NCCL_HOME/lib:${LD_LIBRARY_PATH:-}"
gencode="-gencode=arch=compute_90,code=sm_90"
(cd "$SRC" && make -j16 NCCL_HOME="$NCCL_HOME" NVCC_GENCODE="$gencode" >"$W/build.log" 2>&1) || { echo "build failed"; tail "$W/build.log"; exit 1; }
mpi=""
if command -v mpicc >/dev/null 2>&1; then
	MPI_HOME=$(dirname "$(mpicc -showme:incdirs 2>/dev/null | cut -d' ' -f1)")
	(cd "$SRC" && make -j16 MPI=1 MPI_HOME="$MPI_HOME" NCCL_HOME="$NCCL_HOME" NVCC_GENCODE="$gencode" \
		BUILDDIR="$(pwd)/build-mpi" >"$W/build-mpi.log" 2>&1) && mpi=yes
	[ -z "$mpi" ] && { echo "MPI build failed: two-process mode skipped"; tail -5 "$W/build-mpi.log"; }
fi
for t in $TESTS; do
	exe="$SRC/build/${t}_perf"
	case " $MODES " in *" g2 "*)
		timeout 120 "$BIN" record --no-analyze -o "$W/$t-g2" -- "$exe" $ARGS -g 2 >"$W/$t-g2.out" 2>"$W/$t-g2.log"
		echo "$t -g 2: rc=$?" ;;
	esac
	case " $MODES " in *" t2 "*)
		timeout 120 "$BIN" record --no-analyze -o "$W/$t-t2" -- "$exe" $ARGS -t 2 -g 1 >"$W/$t-t2.out" 2>"$W/$t-t2.log"
		echo "$t -t 2: rc=$?" ;;
	esac
	if [ -n "$mpi" ] && case " $MODES " in *" p2 "*) true ;; *) false ;; esac; then
		timeout 120 "$BIN" record --no-analyze -o "$W/$t-p2" -- mpirun --allow-run-as-root --oversubscribe -np 2 \
			-x NCCL_NVLS_ENABLE -x LD_LIBRARY_PATH "$SRC/build-mpi/${t}_perf" $ARGS -g 1 >"$W/$t-p2.out" 2>"$W/$t-p2.log"
		echo "$t 2 processes: rc=$?"
	fi
done
if [ -x bin/ncclcheck ]; then
	bin/ncclcheck "$W" >"$OUT/ncclcheck.md" 2>&1
	echo "ncclcheck: rc=$?"
fi
# The recordings are large: bring back the outputs and a few recordings.
tar czf "$OUT/nccltests-out.tgz" -C "$W" $(cd "$W" && ls *.out *.log)
recs=$(cd "$W" && ls -d all_reduce-g2 all_reduce-t2 all_reduce-p2 sendrecv-g2 2>/dev/null)
tar czf "$W-rec.tgz" -C "$W" $recs && split -b 15m "$W-rec.tgz" "$OUT/nccltests-rec.tgz."
ls -la "$OUT"
