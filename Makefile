# The two commands a learner needs: `make lab` and `make test`.
# Both create .venv with the project and everything it needs the first time.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.k8slearn-installed

.PHONY: lab test install unit notebooks bench construct doctor clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "k8slearn needs Python 3.11 or newer; set PYTHON=/path/to/python3.11 (make lab PYTHON=...)")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

install: $(STAMP)

## make lab: JupyterLab on the first notebook (replay mode when no curriculum cluster answers)
LAB_ARGS ?=
ROOT_ARGS := $(if $(filter 0,$(shell id -u)),--allow-root,)
lab: install
	$(BIN)/jupyter lab $(ROOT_ARGS) $(LAB_ARGS) notebooks/00-preflight.ipynb

## make test: unit tests, then every notebook executed with papermill in replay mode
test: install
	$(BIN)/python -m pytest -n 2 --dist loadgroup -q tests

unit: install
	$(BIN)/python -m pytest -q tests --ignore=tests/test_notebooks.py -k "not notebook"

bench: install
	$(BIN)/python benchmarks/bench_decode.py
	$(BIN)/python benchmarks/bench_cel.py

## make construct: rebuild data/recordings/constructed (no cluster needed)
construct: install
	$(BIN)/k8slearn record --construct

doctor: install
	$(BIN)/k8slearn doctor

clean:
	rm -rf build .pytest_cache
