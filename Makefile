# amount-updater: `make run` serves it, `make test` runs the whole suite, `make check` gates a change.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

# The lowest FastAPI pyproject.toml admits: CI runs the suite on it too (`make test-lowest`).
LOWEST_FASTAPI := 0.115.3
LOWEST := .venv-lowest

.PHONY: install run test test-lowest check lint format openapi bench clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "amount-updater needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	@touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/amount-updater serve --host 127.0.0.1 --port 8000

test: $(STAMP)
	$(BIN)/pytest

$(LOWEST)/.installed-stamp: pyproject.toml
	$(PYTHON) -m venv $(LOWEST)
	$(LOWEST)/bin/pip install --quiet --upgrade pip
	$(LOWEST)/bin/pip install --quiet -e ".[dev]" "fastapi==$(LOWEST_FASTAPI)"
	@touch $@

test-lowest: $(LOWEST)/.installed-stamp
	$(LOWEST)/bin/pytest

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy

check: lint test

format: $(STAMP)
	$(BIN)/ruff check --fix src tests
	$(BIN)/ruff format src tests

openapi: $(STAMP)
	$(BIN)/amount-updater openapi

# Throughput against the reference endpoint, side by side (installs nginx, wrk, npm packages).
bench: $(STAMP)
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf $(VENV) $(LOWEST) .pytest_cache .mypy_cache .ruff_cache .hypothesis
