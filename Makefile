# Two entry points for a fresh machine with Python 3.11, git and make:
#   make demo   -> local venv + the demo
#   make test   -> local venv + pytest, ruff (lint and format), mypy --strict, import contracts (lint-imports)
# python3.11 if present, else python3 (which must be 3.11 or newer).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test install bench fuzz clean chromium

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null || { echo "podbrief needs Python 3.11+: none found as python3.11 or python3 (or: make PYTHON=/path/to/python3.11 ...)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/podbrief demo

# The browser tests drive Debian's chromium through Playwright (never `playwright install`).
CHROMIUM ?= /usr/bin/chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
chromium:
	@test -x $(CHROMIUM) || { echo "installing Debian's chromium for the browser tests"; \
	  $(SUDO) apt-get update -qq && \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }

test: $(STAMP) chromium
	$(BIN)/python -m pytest -q -n 2
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

bench: $(STAMP)
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/brief.py
	$(BIN)/python bench/quality.py
	$(BIN)/python bench/web.py

# Coverage-guided fuzzing (atheris) of every target in tests/fuzz/targets.py, FUZZ_SECONDS each.
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?= feed duration transcript transcript_reader opml intent telegram_update slack_payload button insights
FUZZ_STAMP := $(VENV)/.fuzz-installed

$(FUZZ_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev,fuzz]'
	@touch $(FUZZ_STAMP)

fuzz: $(FUZZ_STAMP)
	@set -e; for target in $(FUZZ_TARGETS); do \
	  mkdir -p build/fuzz/$$target; echo "== fuzzing $$target for $(FUZZ_SECONDS) s"; \
	  (cd build/fuzz/$$target && PYTHONPATH=$(CURDIR) $(CURDIR)/$(BIN)/python -m tests.fuzz.atheris_run \
	    $$target -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 -close_fd_mask=1); \
	done

clean:
	rm -rf build $(VENV) .pytest_cache .mypy_cache .ruff_cache
