# The two commands a new machine needs: `make run` and `make test`. Each creates what it needs.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.DEFAULT_GOAL := help
.PHONY: help run test test-faults lint bench clean

help: ## show the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "commit-digest needs Python 3.11 or newer; set PYTHON=python3.11 (or newer)")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

run: $(STAMP) ## run web, worker, beat (and an embedded Redis and SQLite) on this machine
	$(BIN)/commit-digest run

test: $(STAMP) ## run the test suite (real Redis, Celery worker, SQLite, PostgreSQL, SMTP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test-faults: $(STAMP) ## run the fault-injection scenarios (real processes, one fault each)
	$(BIN)/python -m pytest -m faults tests/faults $(PYTEST_ARGS)

lint: $(STAMP) ## ruff, mypy and the import contracts (docs/architecture.md)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

bench: $(STAMP) ## run every benchmark and write benchmarks/RESULTS.md
	$(BIN)/python -m benchmarks $(BENCH_ARGS)

clean: ## remove the virtualenv and local data
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
