# simdeploy: `make demo` runs the main job, `make test` runs ruff, the import-layer contracts
# (lint-imports) and the whole test suite.
# Both create the local virtual environment on first use and reuse it afterwards.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: demo test lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/simdeploy compare scenarios/seed-table.yaml --seeds 3 --plot out/seed-table.png

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache

test: lint
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_dataplane.py

clean:
	rm -rf $(VENV) out .pytest_cache .ruff_cache .hypothesis
