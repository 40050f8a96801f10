# One target per job. Everything runs from the project's own virtual environment, created on first use.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# checkov pins an older boto3 than slaclock, so it lives in its own environment (infra/checkov/).
CHECKOV_VENV  := $(VENV)/checkov
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed
CHECKOV_SKIPS  = $(shell sed -n 's/^\(CKV[A-Z0-9_]*\):.*/\1/p' infra/checkov/baseline.yaml | paste -sd, -)

.PHONY: help demo test lint bench pr clean

help:
	@echo "make demo   - run slaclock end to end on the local embedded stack (no AWS account)"
	@echo "make test   - run the whole test suite"
	@echo "make lint   - ruff, mypy, cfn-lint and checkov"
	@echo "make bench  - run the benchmarks under bench/"
	@echo "make pr     - every offline check a pull request needs"

# slaclock itself, and the local stack (infra/local: a development package, not in the Lambda layer)
$(STAMP): pyproject.toml infra/local/pyproject.toml constraints.txt
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "slaclock needs Python 3.11+"'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev,bench]' -e ./infra/local
	@# The browser tests (tests/browser) drive the distribution's Chromium: installed when missing and apt
	@# is usable (root), else they are skipped with a message saying so.
	@test -x /usr/bin/chromium || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
		{ apt-get install -y -qq chromium chromium-driver >/dev/null 2>&1 || \
		  { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq chromium chromium-driver >/dev/null 2>&1; }; }; } || \
		echo "note: no Chromium (apt-get install -y chromium chromium-driver): the browser tests will be skipped"
	touch $(STAMP)

$(CHECKOV_STAMP): infra/checkov/requirements.txt
	test -x $(CHECKOV_VENV)/bin/python || $(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet -r infra/checkov/requirements.txt
	touch $(CHECKOV_STAMP)

demo: $(STAMP)
	$(BIN)/python -m slaclock_local.demo

test: $(STAMP)
	$(BIN)/python -m pytest -q -p no:cacheprovider

lint: $(STAMP) $(CHECKOV_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check layers functions infra bench tests
	$(BIN)/mypy
	$(BIN)/cfn-lint template.yaml
	$(CHECKOV_VENV)/bin/checkov --file template.yaml --framework cloudformation --compact --quiet --skip-download \
		--skip-check $(CHECKOV_SKIPS)

bench: $(STAMP)
	$(BIN)/python bench/calendar.py
	$(BIN)/python bench/replay.py
	$(BIN)/python bench/report.py
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/coldstart.py

pr: lint test

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis out
