# Two commands do all the set-up: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lint format bench fuzz screenshots clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/nextcaller-ops demo

# ruff (lint + format check) and mypy; `make test` runs it first
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

test: lint
	$(BIN)/python -m pytest -q

bench: $(STAMP)
	$(BIN)/python -m bench

# schemathesis against the sandbox's own /openapi.json (signed requests); not part of `make test`
fuzz: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev,fuzz]'
	$(BIN)/python -m pytest -q -p no:cacheprovider fuzz/

# The analyst notebook run in a real kernel, exported with nbconvert, photographed by headless Chromium
# (Debian's chromium, installed when missing); PNGs in docs/. Not part of `make test`.
screenshots: $(STAMP)
	command -v chromium >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq chromium)
	$(BIN)/python -m pip install --quiet -e '.[dev,screenshots]'
	$(BIN)/python docs/screenshots.py

clean:
	rm -rf $(VENV) build *.egg-info
