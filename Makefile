# linkprof. `make demo` and `make test` set everything up on a fresh Debian
# or Ubuntu machine with root; see README.md.

GO        ?= go
BIN       := bin/linkprof
VERSION   := $(shell git describe --always --dirty 2>/dev/null || echo dev)
# go-nvml needs cgo; its header trips gcc's deprecation warnings.
export CGO_ENABLED := 1
export CGO_CFLAGS  := -O2 -g -Wno-deprecated-declarations
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2

.PHONY: all deps generate build test demo bench lint fuzz clean

all: build

# C and C++ compilers for cgo and the fake NCCL/CUDA libraries, python3 for
# the stand-in server's tests, bpftool to check that no probe outlives
# linkprof, chromium to draw report.html in a headless browser
# (pipeline.TestReportHTMLInBrowser: skipped without it, failed under
# CI=true; Debian's package, apt-get install takes about a minute; where no
# `chromium` package exists, as on Ubuntu, install a browser by hand).
# Nothing else is needed at run time. (clang, llvm and libbpf-dev only for
# `make generate`.)
APT_INSTALL := DEBIAN_FRONTEND=noninteractive apt-get install -y -qq
deps:
	@missing=""; \
	command -v cc >/dev/null 2>&1 || missing="$$missing gcc libc6-dev"; \
	command -v g++ >/dev/null 2>&1 || missing="$$missing g++"; \
	command -v python3 >/dev/null 2>&1 || missing="$$missing python3"; \
	command -v bpftool >/dev/null 2>&1 || missing="$$missing bpftool"; \
	command -v setpriv >/dev/null 2>&1 || missing="$$missing util-linux"; \
	if [ -n "$$missing" ]; then apt-get update -qq && $(APT_INSTALL) $$missing; fi
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || command -v google-chrome >/dev/null 2>&1 || \
		{ apt-get update -qq && $(APT_INSTALL) chromium; } || echo "make: no chromium package here: the report.html browser test skips (fails under CI=true)"
	$(GO) mod download

# Rebuilds the committed BPF objects (bpf/*_bpfel.{go,o}).
generate:
	@command -v clang >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq clang llvm libbpf-dev; }
	$(GO) generate ./bpf/...

build: deps
	$(GO) build -ldflags "-X main.version=$(VERSION)" -o $(BIN) ./cmd/linkprof

# The tests load BPF programs and attach uprobes: they run as root (CI
# does, with CI=true, where a missing capability fails instead of skipping).
test: build
	$(GO) vet ./...
	$(GO) test -count=1 ./...
	cd scripts/standin && python3 -m unittest discover -s . -q

demo: build
	$(BIN) demo

bench: build
	scripts/bench.sh

lint:
	$(GO) mod tidy -diff
	@# Notes outside the repository are not the users': the patterns are
	@# bracketed so that this line does not match itself.
	@! git grep -n -e '[D]ESIGN[.]md' -e '[F]ACTS[.]md' -e '[.][.]/[s]hared/' || { echo "cite docs/design.md or docs/nccl-facts.md: users have only the repository"; exit 1; }
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); exit 1; }
	@# A merge's conflict markers left in a file (bracketed, not to match this line).
	@! git grep -n -E '^([<]{7} |[>]{7} )' -- ':!*.o' || { echo "merge conflict markers left"; exit 1; }
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...
	@if command -v shellcheck >/dev/null; then shellcheck scripts/slurm-record.sh; else echo "shellcheck not installed (apt-get install shellcheck): scripts not checked"; fi

fuzz:
	$(GO) test -run XXX -fuzz FuzzReader -fuzztime 60s ./trace/

clean:
	rm -rf bin
