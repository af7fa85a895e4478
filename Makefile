# simdeploy: `make demo` runs the main job, `make test` runs ruff, the import-layer contracts
# (lint-imports) and the whole test suite, `make lab` opens the notebooks in JupyterLab.
# Each creates the local virtual environment on first use and reuses it afterwards.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
LAB    := $(VENV)/.lab-stamp
MUTATION := $(VENV)/.mutation-stamp

.PHONY: demo test lint bench lab mutation clean

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

$(LAB): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[test,lab]'
	touch $(LAB)

# JupyterLab on notebooks/ with the project's kernel; installed into .venv on first use.
# Options go through LAB_ARGS, e.g. make lab LAB_ARGS='--no-browser --port 8899'.
# Jupyter refuses to run as root without --allow-root (containers often run as root).
lab: $(LAB)
	$(BIN)/jupyter lab notebooks/ $(if $(filter 0,$(shell id -u)),--allow-root) $(LAB_ARGS)

$(MUTATION): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[test,mutation]'
	touch $(MUTATION)

# Mutation testing of world/ and control/ with mutmut (docs/testing.md; the tests it runs
# are [tool.mutmut] in pyproject.toml). All of it takes hours on 2 cores: narrow it with
# MUTANTS, e.g. make mutation MUTANTS='simdeploy.world.cluster*'. State stays in mutants/.
mutation: $(MUTATION)
	$(BIN)/mutmut run --max-children $(or $(JOBS),2) $(foreach m,$(MUTANTS),'$(m)')
	$(BIN)/mutmut export-cicd-stats
	$(BIN)/mutmut results

clean:
	rm -rf $(VENV) out .pytest_cache .ruff_cache .hypothesis mutants
