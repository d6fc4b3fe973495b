# assetmap: `make run` starts the app on the demo area; `make test` runs every test.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 8501

.PHONY: install system-deps run test lint demo bench clean

$(VENV)/.installed: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e ".[test]"
	touch $@

install: $(VENV)/.installed

system-deps:
	bash scripts/install-system-deps.sh

run: install
	$(BIN)/assetmap serve --port $(PORT)

test: install system-deps
	$(BIN)/python -m pytest

lint: install
	$(BIN)/ruff check assetmap tests benchmarks app.py
	$(BIN)/ruff format --check assetmap tests benchmarks app.py

demo: install
	$(BIN)/python -m assetmap.demo

bench: install
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) .pytest_cache test-artifacts
