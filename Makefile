# Nashra — the whole set-up is `make run` (the bot) and `make test` (the suite).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run test lint demo bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	# An editable install is not byte-compiled: without this, every command compiles the modules it
	# imports (where PYTHONDONTWRITEBYTECODE is set, as in many containers, on every run).
	$(BIN)/python -m compileall -q news jobs storage bot
	touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/nashra db upgrade
	$(BIN)/nashra run

test: install
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy news bot jobs storage

demo: install
	$(BIN)/python scripts/demo.py

bench: install
	$(BIN)/python benchmarks/ingest.py

clean:
	rm -rf $(VENV) build *.egg-info
