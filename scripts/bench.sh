#!/bin/sh
# Probe cost and lost events (make bench). Needs root.
set -eu
cd "$(dirname "$0")/.."
export CGO_ENABLED=1 CGO_CFLAGS="-O2 -g -Wno-deprecated-declarations"
go run ./scripts/bench "$@"
