# shadowscan developer tasks. `make help` lists them.
.DEFAULT_GOAL := help
SHELL := /bin/bash

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
SHARED ?= ../shared

.PHONY: help install demo test lint typecheck signatures pytest golden bench conformance clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP) ## Create .venv (if missing) and install shadowscan with its dev tools

DEMO_IDENTITY = --identity sample_identity/dhcpd_leases/demo-2024.leases \
	--identity sample_identity/asset_inventory/demo-assets.csv \
	--identity sample_identity/windows_logon/demo-2024.ndjson \
	--directory sample_identity/directory/directory_csv/hr-people.csv \
	--sites sample_identity/sites.csv

demo: install ## Scan sample_logs/, attribute to people, print findings and departments
	$(BIN)/shadowscan scan sample_logs/ $(DEMO_IDENTITY) --output-format table
	$(BIN)/shadowscan scan sample_logs/ $(DEMO_IDENTITY) --group-by department --output-format table -q

lint: install ## ruff (lint and format check)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install ## mypy --strict on the package
	$(BIN)/mypy

pytest: install ## The test suite only (on every core)
	$(BIN)/python -m pytest -n auto

signatures: install ## Validate the signature catalogue and run every service's examples
	$(BIN)/shadowscan signatures validate
	$(BIN)/shadowscan signatures test

test: lint typecheck signatures pytest ## Lint, type-check, check the signatures and run the whole test suite

golden: install ## Rewrite the golden files and README schema tables (review the diff!)
	$(BIN)/python -m tests.readme_tables
	SHADOWSCAN_UPDATE_GOLDEN=1 $(BIN)/python -m pytest -q tests/test_golden.py \
		tests/identity/test_golden_identity.py tests/directory/test_golden_directory.py \
		tests/outputs/ tests/report/test_sinks.py tests/exports/

bench: install ## Benchmarks: shadowscan against grep on generated logs
	$(BIN)/python -m bench

conformance: install ## Check the parsers against the real logs in ../shared/corpus
	$(BIN)/python -m tests.conformance $(SHARED)/corpus

clean: ## Remove the virtualenv and caches
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache build dist
