# Two commands do all the set-up: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# One stamp per install: `make demo` installs only what the demo's steps use; `make test` (and lint,
# bench, fuzz, screenshots) the dev extra, which holds every extra too — so after it the demo's is done.
DEMO   := $(VENV)/.installed-demo
DEV    := $(VENV)/.installed-dev

.PHONY: demo test lint format bench fuzz screenshots clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# The tour's steps: the base install (CLI, sandbox), IPython with pandas, the Slack bot. No dev tools.
$(DEMO): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[notebook,slack]'
	touch $@

$(DEV): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@ $(DEMO)

# The demo keeps to a temp dir and asks no keyring (it sets PYTHON_KEYRING_BACKEND to keyring's null backend).
demo: $(DEMO)
	$(BIN)/nextcaller-ops demo

# ruff (lint + format check), mypy and the import contracts (import-linter); `make test` runs it first
lint: $(DEV)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

format: $(DEV)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

test: lint
	$(BIN)/python -m pytest -q

bench: $(DEV)
	$(BIN)/python -m bench

# schemathesis against the sandbox's own /openapi.json (signed requests); not part of `make test`
fuzz: $(DEV)
	$(BIN)/python -m pip install --quiet -e '.[dev,fuzz]'
	$(BIN)/python -m pytest -q -p no:cacheprovider fuzz/

# The analyst notebook run in a real kernel, exported with nbconvert, photographed by headless Chromium
# (Debian's chromium, installed when missing); PNGs in docs/. Not part of `make test`.
screenshots: $(DEV)
	command -v chromium >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq chromium)
	$(BIN)/python -m pip install --quiet -e '.[dev,screenshots]'
	$(BIN)/python docs/screenshots.py

clean:
	rm -rf $(VENV) build *.egg-info
