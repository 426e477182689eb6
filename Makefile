# The commands a learner needs: `make lab` and `make test`; `make cluster` builds the local
# control plane (real kube-apiserver, etcd, ... from Kubernetes' Go modules) once per machine.
# Everything creates .venv with the project and what it needs the first time.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.k8slearn-installed

# Go: the machine's own toolchain (go.mod files name go 1.26.0), no workspace, no cgo, the
# module versions go.sum pins, no VCS stamping. The Python side sets the same for its builds.
export GOTOOLCHAIN := local
export GOWORK := off
export GOFLAGS := -mod=readonly -buildvcs=false
export CGO_ENABLED := 0

.PHONY: lab test install unit lint notebooks bench fuzz cluster up down record doctor clean browser chromium qemu cross

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "k8slearn needs Python 3.11 or newer; set PYTHON=/path/to/python3.11 (make lab PYTHON=...)")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

install: $(STAMP)

## make lab: JupyterLab on the first notebook (live when a curriculum cluster runs, else replay)
LAB_ARGS ?=
ROOT_ARGS := $(if $(filter 0,$(shell id -u)),--allow-root,)
lab: install
	$(BIN)/jupyter lab $(ROOT_ARGS) $(LAB_ARGS) notebooks/00-preflight.ipynb

## make cluster: build kube-apiserver, kube-controller-manager, kube-scheduler, kubectl, etcd,
## etcdctl, etcdutl and kwok into the cache (tens of minutes the first time on 2 cores)
cluster: install
	$(BIN)/k8slearn cluster build

## make qemu: qemu-user, which notebook 06 runs riscv64 and loong64 programs under (apt-get as root on
## Debian/Ubuntu; elsewhere it says what to install; without it the notebook skips those runs, saying so)
qemu:
	@if command -v qemu-riscv64 >/dev/null && command -v qemu-loongarch64 >/dev/null; then \
	  echo "qemu-user: qemu-riscv64 and qemu-loongarch64 are installed"; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y qemu-user || \
	  { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y qemu-user; }; \
	else \
	  echo "make qemu: install qemu-user yourself (Debian/Ubuntu: sudo apt-get install qemu-user;" \
	       "Fedora: sudo dnf install qemu-user); notebook 06 skips its emulated runs without it"; \
	fi

## make cross: kube-apiserver and etcd cross-built for riscv64 and loong64 (notebook 06), beside the
## control plane in the cache; minutes the first time, seconds when built
cross: cluster
	$(BIN)/k8slearn arch build

## make up / make down: the local control plane for `make lab` (kube context k8slearn-local)
up: cluster
	$(BIN)/k8slearn cluster up --runtime local
down: install
	$(BIN)/k8slearn cluster down --runtime local

## make test: lint, unit tests, every notebook in replay, then (serially) every notebook live, in
## record mode, on the suite's own local control plane and replayed from that fresh recording
## (skipped, saying why, when the control plane is not built), then the browser tests (skipped,
## saying why, without Chromium)
PYTEST := $(BIN)/python -m pytest -q
test: install lint
	$(BIN)/python tests/with_control_plane.py sh -c \
	  '$(PYTEST) -n 2 -m "not live and not browser" tests && $(PYTEST) -m live -p no:xdist tests'
	$(PYTEST) -m browser -p no:xdist tests

## make browser: only the browser tests: `make lab` driven in headless Chromium through every
## notebook and widget (replay); screenshots in build/browser/ (docs/browser-tests.md)
browser: install
	$(PYTEST) -m browser -p no:xdist tests

## make chromium: Debian's Chromium for the browser tests (CI runs it; needs root and apt-get)
chromium:
	@if [ -x /usr/bin/chromium ]; then echo "chromium: $$(/usr/bin/chromium --version 2>/dev/null)"; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y chromium || \
	  { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium; }; \
	else echo "make chromium: needs root and apt-get; else install Chromium at /usr/bin/chromium" >&2; exit 1; fi


## make lint: ruff (lint and format) and mypy, configured in pyproject.toml
lint: install
	$(BIN)/ruff check k8slearn tests benchmarks
	$(BIN)/ruff format --check k8slearn tests benchmarks
	$(BIN)/mypy

unit: install
	$(BIN)/python -m pytest -q tests --ignore=tests/test_notebooks.py --ignore=tests/test_browser.py -k "not notebook"

bench: install
	$(BIN)/python benchmarks/bench_decode.py
	$(BIN)/python benchmarks/bench_cel.py
	$(BIN)/python benchmarks/bench_control_plane.py
	$(BIN)/python benchmarks/bench_snapshot.py
	$(BIN)/python benchmarks/bench_watchlist.py
	$(BIN)/python benchmarks/bench_keyspace.py

## make fuzz: the storage codec's fuzz targets with 10^5 inputs and a random seed (make test
## runs the same targets with 300 inputs each and a fixed seed); see docs/codec.md
fuzz: install
	K8SLEARN_FUZZ_INPUTS=100000 $(BIN)/python -m pytest -q -p no:xdist -p no:cacheprovider \
	  --hypothesis-show-statistics tests/test_codec_fuzz.py

## make record: start the local control plane, re-record every notebook into data/recordings/
record: cluster
	$(BIN)/python tests/with_control_plane.py $(BIN)/k8slearn record

doctor: install
	$(BIN)/k8slearn doctor

clean:
	rm -rf build .pytest_cache
