# The two commands a new machine needs: `make run` and `make test`.
# Each sets itself up: a virtualenv in .venv with the project and its dev extras.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint typecheck pytest migrate simulate bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Reinstall when the project's dependencies change.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/hotline serve --demo-data-if-empty

test: lint typecheck pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP)
	$(BIN)/pytest -n 3 --durations=15

migrate: $(STAMP)
	$(BIN)/hotline migrate

simulate: $(STAMP)
	$(BIN)/hotline simulate --calls 60 --rate 1 --agents 8 --speed 20

bench: $(STAMP)
	$(BIN)/python bench/webhooks.py

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis
