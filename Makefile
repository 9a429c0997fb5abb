# The two commands a new machine needs: `make run` and `make test`. Each creates what it needs.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.DEFAULT_GOAL := help
.PHONY: help run test test-faults test-browser browser-deps lint bench eval clean k8s-check

help: ## show the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

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

CHROMIUM ?= /usr/bin/chromium

browser-deps: ## install Debian's Chromium, CJK and emoji fonts for the browser tests (needs root)
	@test -x $(CHROMIUM) || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk fonts-noto-color-emoji; }

test-browser: $(STAMP) browser-deps ## the report and archive pages in a real Chromium (screenshots in var/screenshots)
	CHROMIUM=$(CHROMIUM) $(BIN)/python -m pytest -m browser tests/browser $(PYTEST_ARGS)

lint: $(STAMP) ## ruff (with its security rules), mypy, the import contracts, pip-audit
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/python tools/audit_dependencies.py

bench: $(STAMP) ## run every benchmark and write benchmarks/RESULTS.md
	$(BIN)/python -m benchmarks $(BENCH_ARGS)

# The Kubernetes manifests' tools (checkov, kubernetes-validate, kubectl) live in a virtualenv
# of their own: checkov's many pinned dependencies stay out of the project's.
K8S_VENV  ?= .venv-k8s
K8S_STAMP := $(K8S_VENV)/.installed

$(K8S_STAMP): deploy/kubernetes/requirements-check.txt
	test -x $(K8S_VENV)/bin/python || $(PYTHON) -m venv $(K8S_VENV)
	$(K8S_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(K8S_VENV)/bin/python -m pip install --quiet -r deploy/kubernetes/requirements-check.txt
	@touch $(K8S_STAMP)

k8s-check: $(K8S_STAMP) ## render the Kubernetes overlays and check them (schemas, checkov), offline
	$(K8S_VENV)/bin/python deploy/kubernetes/check.py $(K8S_CHECK_ARGS)

clean: ## remove the virtualenv and local data
	rm -rf $(VENV) $(K8S_VENV) var .pytest_cache .mypy_cache .ruff_cache

eval: $(STAMP) ## agreement of both analyzers with the labelled commits in eval/ (writes benchmarks/EVAL.md)
	$(BIN)/python -m benchmarks.judgement $(EVAL_ARGS)
