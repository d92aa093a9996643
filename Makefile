# Socialcoin: one Makefile for a fresh machine (Python 3.11, Node/npm, Debian packages).
#   make run    local chain + contracts + demo municipality
#   make test   every test
#   make bench  gas and throughput figures with their baselines
#   make lint   ruff, Slither, ERC-20 conformance
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3.11
VENV := .venv
LINT_VENV := .tools/lint
SOLC_VERSION := 0.8.28
SOLC := .solcx/solc-v$(SOLC_VERSION)
VENDOR_JS := build/vendor/jsQR.min.js

# brownie finds anvil on PATH (tools/bin/anvil runs npm's binary) and the solc stand-in through
# py-solc-x's folder.
export PATH := $(CURDIR)/tools/bin:$(CURDIR)/$(VENV)/bin:$(PATH)
export SOLCX_BINARY_PATH := $(CURDIR)/.solcx
BROWNIE := $(VENV)/bin/brownie
TEST_NETWORK := socialcoin-test
TEST_PORT := 8555
BACKEND_TEST_PORT := 8556
CLI_TEST_PORT := 8557
CLI_TEST_API_PORT := 8558
E2E_TEST_PORT := 8559
RUN_PORT ?= 8545

.PHONY: help setup networks compile run test test-contracts test-python test-backend test-backend-postgres test-cli test-e2e bench lint clean

help:
	@echo "make run | test | bench | lint | setup | clean"

setup: $(VENV)/.installed node_modules/.installed $(SOLC) networks $(VENDOR_JS)

$(VENV)/.installed: requirements.txt pyproject.toml
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -r requirements.txt
	$(VENV)/bin/pip install --quiet --no-deps -e .
	touch $@

# `npm ci`: exactly the versions of package-lock.json, and the lock is never rewritten. The lock lists
# anvil's builds for every platform (as npm writes it), or `npm ci` refuses it as out of date.
node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# npm libraries the pages serve, minified here (the wallet's pages ship at most 60 KB of JavaScript gzipped).
$(VENDOR_JS): node_modules/.installed
	mkdir -p $(@D)
	node_modules/.bin/terser node_modules/jsqr/dist/jsQR.js --compress --mangle --comments false -o $@

# py-solc-x (and so brownie) runs whatever sits at .solcx/solc-v<version>: our solcjs wrapper.
$(SOLC): tools/solc.js
	mkdir -p $(@D)
	printf '#!/bin/sh\nexec node "%s/tools/solc.js" "$$@"\n' "$(CURDIR)" > $@
	chmod +x $@

# brownie keeps networks in ~/.brownie/network-config.yaml, one file for every run of this user: the
# script declares ours under a lock and rewrites the file (atomically) only when one differs.
networks: $(VENV)/.installed
	@$(VENV)/bin/python tools/networks.py $(TEST_NETWORK)=$(TEST_PORT) socialcoin-backend=$(BACKEND_TEST_PORT) \
		socialcoin-bench-service=8592 socialcoin-cli=$(CLI_TEST_PORT) socialcoin-bench-csv=8595 \
		socialcoin-bench-payments=8600 socialcoin-bench-flood=8605 socialcoin-e2e=$(E2E_TEST_PORT) \
		socialcoin-bench-pages=8610 socialcoin-bench-indexer=8615 socialcoin-bench-simulation=8620 \
		socialcoin-local=$(RUN_PORT)

compile: setup
	$(BROWNIE) compile

run: setup
	RUN_PORT=$(RUN_PORT) bash tools/run-local.sh

test: test-python test-contracts test-backend test-backend-postgres test-cli test-e2e

# Debian's Chromium (Playwright drives it; its own browser download does not work here).
CHROMIUM := /usr/bin/chromium
$(CHROMIUM):
	bash tools/chromium.sh

# The pages in a real browser (headless Chromium) against a served backend and anvil of their own.
test-e2e: setup $(CHROMIUM)
	SOCIALCOIN_E2E_NETWORK=socialcoin-e2e SOCIALCOIN_E2E_CHAIN_PORT=$(E2E_TEST_PORT) \
		$(VENV)/bin/python -m pytest -p no:pytest-brownie tests/e2e -q

test-contracts: setup
	$(BROWNIE) test tests/contracts --network $(TEST_NETWORK) -W ignore::FutureWarning

# Plain Python tests: brownie's pytest plugin stays off (it would compile and start a chain).
test-python: setup
	$(VENV)/bin/python -m pytest -p no:pytest-brownie tests/python -q

BACKEND_TESTS := $(VENV)/bin/python -m pytest -p no:pytest-brownie tests/backend -q
SCHEMATHESIS_VENV := .tools/schemathesis

$(SCHEMATHESIS_VENV)/.installed: requirements-schemathesis.txt
	test -x $(SCHEMATHESIS_VENV)/bin/python || $(PYTHON) -m venv $(SCHEMATHESIS_VENV)
	$(SCHEMATHESIS_VENV)/bin/pip install --quiet --upgrade pip
	$(SCHEMATHESIS_VENV)/bin/pip install --quiet -r requirements-schemathesis.txt
	touch $@

test-backend: setup $(SCHEMATHESIS_VENV)/.installed
	$(BACKEND_TESTS)

# The same suite against PostgreSQL (Debian's, installed and started on loopback if needed).
test-backend-postgres: setup $(SCHEMATHESIS_VENV)/.installed
	url="$$(bash tools/postgres.sh)" && SOCIALCOIN_TEST_DATABASE_URL="$$url" $(BACKEND_TESTS)

# The `socialcoin` command against a backend process and anvil of its own (SQLite), once.
test-cli: setup
	SOCIALCOIN_CLI_TEST_NETWORK=socialcoin-cli SOCIALCOIN_CLI_TEST_CHAIN_PORT=$(CLI_TEST_PORT) \
		SOCIALCOIN_CLI_TEST_API_PORT=$(CLI_TEST_API_PORT) $(VENV)/bin/python -m pytest -p no:pytest-brownie tests/cli -q

bench: setup $(CHROMIUM)
	$(VENV)/bin/python bench/gas.py --network $(TEST_NETWORK)
	$(VENV)/bin/python bench/service.py
	$(VENV)/bin/python bench/csv_batches.py
	$(VENV)/bin/python bench/payments.py
	$(VENV)/bin/python bench/flood.py
	$(VENV)/bin/python bench/pages.py
	$(VENV)/bin/python bench/research_metrics.py
	$(VENV)/bin/python bench/indexer.py
	$(VENV)/bin/python bench/simulation.py

$(LINT_VENV)/.installed: requirements-lint.txt
	test -x $(LINT_VENV)/bin/python || $(PYTHON) -m venv $(LINT_VENV)
	$(LINT_VENV)/bin/pip install --quiet --upgrade pip
	$(LINT_VENV)/bin/pip install --quiet -r requirements-lint.txt
	touch $@

lint: setup $(LINT_VENV)/.installed
	$(LINT_VENV)/bin/ruff check backend scripts tests bench tools
	$(LINT_VENV)/bin/ruff format --check backend scripts tests bench tools
	$(LINT_VENV)/bin/mypy --python-executable $(VENV)/bin/python
	$(BROWNIE) compile
	PATH="$(CURDIR)/$(LINT_VENV)/bin:$$PATH" bash tools/slither.sh

clean:
	rm -rf build reports .pytest_cache
