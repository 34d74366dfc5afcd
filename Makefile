# amount-updater: `make run` serves it (sandbox mode), `make test` runs the whole suite, `make check` gates a change.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

# The lowest FastAPI pyproject.toml admits: CI runs the suite on it too (`make test-lowest`).
LOWEST_FASTAPI := 0.115.3
LOWEST := .venv-lowest

.PHONY: install run test test-lowest check lint format openapi lock bench clean

EMULATOR := packages/stripe-emulator

$(STAMP): pyproject.toml $(EMULATOR)/pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "amount-updater needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e $(EMULATOR) -e ".[dev,sandbox]"
	@touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/amount-updater serve --sandbox --port 8000

test: $(STAMP)
	$(BIN)/pytest

# Opt-in: the main flows against Stripe test mode through the service's gateway, recording the
# answers in tests/contract/recorded/ (needs AMOUNT_UPDATER_CONTRACT_STRIPE_KEY=sk_test_...; skipped
# without it), then the emulator's replay of them. `make test` leaves the Stripe part out.
.PHONY: contract
contract: $(STAMP)
	$(BIN)/pytest -m contract tests/contract
	$(BIN)/pytest tests/contract

$(LOWEST)/.installed-stamp: pyproject.toml $(EMULATOR)/pyproject.toml
	$(PYTHON) -m venv $(LOWEST)
	$(LOWEST)/bin/pip install --quiet --upgrade pip
	$(LOWEST)/bin/pip install --quiet -e $(EMULATOR) -e ".[dev,sandbox]" "fastapi==$(LOWEST_FASTAPI)"
	@touch $@

test-lowest: $(LOWEST)/.installed-stamp
	$(LOWEST)/bin/pytest

lint: $(STAMP)
	$(BIN)/ruff check src $(EMULATOR)/src tests benchmarks scripts
	$(BIN)/ruff format --check src $(EMULATOR)/src tests benchmarks scripts
	$(BIN)/mypy

check: lint test

format: $(STAMP)
	$(BIN)/ruff check --fix src tests
	$(BIN)/ruff format src tests

openapi: $(STAMP)
	$(BIN)/amount-updater openapi

# The subset of Stripe's OpenAPI spec the tests check requests and answers against
# (tests/support/stripe_spec/README.md), rewritten from Stripe's full spec at a stripe/openapi
# commit: downloaded from GitHub, or SPEC=path/to/openapi.spec3.json (a local copy of it).
# `make spec STRIPE_OPENAPI_COMMIT=<sha>` moves to another version; commit the diff it makes.
STRIPE_OPENAPI_COMMIT ?= 18fa2cc768024b47789dc6fa243acd48478acac2
SPEC ?=
.PHONY: spec
spec: $(STAMP)
	$(BIN)/python scripts/refresh_stripe_spec.py $(SPEC) --commit $(STRIPE_OPENAPI_COMMIT)

# requirements.lock: the image's runtime dependencies (pyproject.toml's `dependencies`, not the
# dev extra) pinned with hashes for its platform (python:3.11-slim, linux x86_64);
# build-requirements.lock: the build backend the image builds the wheel with (pyproject.toml's
# `build-system.requires`), likewise. Run it after changing either; pins still allowed are kept
# (delete the files first to move every pin to the newest version allowed). uv runs from a
# throwaway venv.
LOCK_FOR := --generate-hashes --python-version 3.11 --python-platform x86_64-manylinux_2_28
lock:
	tools=$$(mktemp -d) && trap 'rm -rf $$tools' EXIT \
	    && $(PYTHON) -m venv $$tools \
	    && $$tools/bin/pip install --quiet uv \
	    && $$tools/bin/uv pip compile pyproject.toml $(LOCK_FOR) -o requirements.lock \
	    && $(PYTHON) -c 'import tomllib; print(*tomllib.load(open("pyproject.toml", "rb"))["build-system"]["requires"], sep="\n")' \
	        | $$tools/bin/uv pip compile - $(LOCK_FOR) -o build-requirements.lock

# Throughput against the reference endpoint, side by side (installs nginx, wrk, npm packages).
bench: $(STAMP)
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf $(VENV) $(LOWEST) .pytest_cache .mypy_cache .ruff_cache .hypothesis
