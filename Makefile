# Two commands do all set-up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: run test lint format validate bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Re-install whenever pyproject.toml changes; the stamp files remember the last install.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@ $(VENV)/.installed

# Serves the bundled 五角场 study (real OSM streets and outlines, data/studies/wujiaochang);
# the 长白新村 sample in data/layers stays the default of the library, tests and examples.
run: $(VENV)/.installed
	$(BIN)/lifecircle serve --data data/studies/wujiaochang --host $(HOST) --port $(PORT)

test: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/python -m pytest

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(VENV)/.installed-dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Speed against peers (networkx, pandana, pygeoapi); prints ratios, bounded in time.
bench: $(VENV)/.installed-dev
	$(BIN)/python -m pip install --quiet -e ".[dev,bench]"
	$(BIN)/python benchmarks/coverage.py
	$(BIN)/python benchmarks/analyze.py
	$(BIN)/python benchmarks/api_load.py
	$(BIN)/python benchmarks/dashboard.py
	$(BIN)/python benchmarks/workbench.py
	$(BIN)/python benchmarks/sites.py
	$(BIN)/python benchmarks/report.py
	$(BIN)/python benchmarks/api_schema.py

validate: $(VENV)/.installed
	$(BIN)/lifecircle validate

clean:
	rm -rf $(VENV) build *.egg-info test-output
