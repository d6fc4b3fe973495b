# assetmap: `make run` starts the app on the demo area; `make test` runs every test.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 8501

.PHONY: install system-deps run test lint demo wheel-check bench clean

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
	$(BIN)/python -m pytest -n 2 --dist loadfile

lint: install
	$(BIN)/ruff check assetmap tests benchmarks tools
	$(BIN)/ruff format --check assetmap tests benchmarks tools
	$(BIN)/mypy

# Regenerate the fictional demo area (assetmap/datasets/eastbrook) byte for byte.
demo: install
	$(BIN)/python tools/make_demo.py

# Build the wheel, install it in a fresh virtual environment and run it from outside the repository.
wheel-check:
	bash scripts/check-wheel.sh

bench: install
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) .pytest_cache test-artifacts
