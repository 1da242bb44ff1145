#!/bin/sh
# Issue 15's GPU validation: the network link, on one GPU machine with no
# second host. NCCL_P2P_DISABLE=1 NCCL_SHM_DISABLE=1 NCCL_NET=Socket
# NCCL_SOCKET_IFNAME=lo force NCCL's socket transport between the local
# ranks, so their bytes cross lo's counters instead of NVLink. Recorded with
# --nics auto (which picks lo from that environment), analyzed at the end
# of each recording (report.json in each folder):
#   phase mix launched and attached  -> go run ./scripts/gpu/attribcheck -link net REC REC-phases.json
#   torch_known.py attached          -> go run ./scripts/gpu/phasebytes -link net known known-issued.json
#   sysfs read cost on the machine   -> sysfs-cost.txt
# Everything comes back in OUT (split into parts).
# usage: scripts/gpu/validate_net.sh OUT [WORLD]   (repository root, bin/linkprof from make build)
set -u
OUT=$1
WORLD=${2:-2}
BIN=bin/linkprof
W=/tmp/lp-net
rm -rf "$W" && mkdir -p "$W" "$OUT"
export NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1 NVSHMEM_DISABLE_NVLS=1 PYTHONUNBUFFERED=1
export NCCL_P2P_DISABLE=1 NCCL_SHM_DISABLE=1 NCCL_NET=Socket NCCL_SOCKET_IFNAME=lo
ls -l /sys/class/net /sys/class/infiniband >"$W/devices.txt" 2>&1

# Launch mode: recorded from the first instruction.
timeout 300 "$BIN" record -o "$W/launch" -- \
	python3 scripts/gpu/phasemix.py "$W/launch-phases.json" --world "$WORLD" --net >"$W/launch.log" 2>&1
echo "phase mix over lo, launch: rc=$?"

# Attach mode: the ranks made their communicators before linkprof came.
python3 scripts/gpu/phasemix.py "$W/attach-phases.json" --world "$WORLD" --net --wait-file "$W/ready" --port 29547 \
	>"$W/attach-app.log" 2>&1 &
app=$!
for _ in $(seq 600); do [ -f "$W/attach-phases.json.inited" ] && break; sleep 0.1; done
timeout 300 "$BIN" record -p "$app" --ready-file "$W/ready" -o "$W/attach" >"$W/attach.log" 2>&1
echo "phase mix over lo, attach: rc=$?"
wait "$app"

# Ring bytes per phase against lo's counters (no model involved).
python3 scripts/gpu/torch_known.py "$W/known-issued.json" "$W/known-ready" "$W/known-go" --world "$WORLD" \
	>"$W/known-app.log" 2>&1 &
py=$!
for r in $(seq 0 $((WORLD - 1))); do
	for _ in $(seq 600); do [ -f "$W/known-ready/rank$r.pid" ] && break; sleep 0.1; done
done
timeout 300 "$BIN" record -p "$py" -o "$W/known" --ready-file "$W/known-attached" >"$W/known.log" 2>&1 &
rec=$!
for _ in $(seq 600); do [ -f "$W/known-attached" ] && break; sleep 0.05; done
touch "$W/known-go"
wait "$py"
wait "$rec"
echo "torch_known over lo: rc=$?"

# What two reads of lo's counters cost here: opened each time (a script's
# way) and kept open, read again at offset 0 (linkprof's nic package).
python3 - >"$W/sysfs-cost.txt" 2>&1 <<'PY'
import os, time
d = "/sys/class/net/lo/statistics/"
n = 20000
t = time.perf_counter(); c = time.process_time()
for _ in range(n):
    for f in ("tx_bytes", "rx_bytes"):
        with open(d + f) as h:
            int(h.read())
print("open+read+close, 2 counters: %.2f us wall, %.2f us CPU per round" % ((time.perf_counter() - t) / n * 1e6, (time.process_time() - c) / n * 1e6))
fds = [os.open(d + f, os.O_RDONLY) for f in ("tx_bytes", "rx_bytes")]
t = time.perf_counter(); c = time.process_time()
for _ in range(n):
    for fd in fds:
        int(os.pread(fd, 32, 0))
print("pread at 0 of kept-open files, 2 counters: %.2f us wall, %.2f us CPU per round" % ((time.perf_counter() - t) / n * 1e6, (time.process_time() - c) / n * 1e6))
PY
cat "$W/sysfs-cost.txt"
nvidia-smi topo -m >"$W/topo.txt" 2>&1
tar czf "$W.tgz" -C "$W" . && split -b 15m "$W.tgz" "$OUT/net.tgz."
ls -la "$OUT"
