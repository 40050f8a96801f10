# One target per job. Everything runs from the project's own virtual environment, created on first use.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: help demo test lint bench pr clean

help:
	@echo "make demo   - run slaclock end to end on the local embedded stack (no AWS account)"
	@echo "make test   - run the whole test suite"
	@echo "make lint   - ruff, mypy and cfn-lint"
	@echo "make bench  - run the benchmarks under bench/"
	@echo "make pr     - every offline check a pull request needs"

# slaclock itself, and the local stack (infra/local: a development package, not in the Lambda layer)
$(STAMP): pyproject.toml infra/local/pyproject.toml constraints.txt
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "slaclock needs Python 3.11+"'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev,bench]' -e ./infra/local
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m slaclock_local.demo

test: $(STAMP)
	$(BIN)/python -m pytest -q -p no:cacheprovider

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check layers functions infra bench tests
	$(BIN)/mypy
	$(BIN)/cfn-lint template.yaml

bench: $(STAMP)
	$(BIN)/python bench/calendar.py
	$(BIN)/python bench/replay.py
	$(BIN)/python bench/report.py
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/coldstart.py

pr: lint test

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis out
