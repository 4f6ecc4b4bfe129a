# ContactGraph — the two commands a fresh machine needs: `make run` and `make test`.
# Everything is installed from pyproject.toml + uv.lock into .venv (locked, reproducible).

PYTHON ?= python3
UV_VERSION := 0.13.9
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
BIN := $(VENV)/bin
export UV_PROJECT_ENVIRONMENT := $(abspath $(VENV))
export UV_PYTHON_DOWNLOADS := never

.PHONY: install run test lint typecheck pytest schema bench-report loadtest clean

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

# The stamp is rebuilt whenever the declared or locked dependencies change.
$(VENV)/.installed: pyproject.toml uv.lock | $(UV)
	$(UV) sync --locked --all-extras --python $(PYTHON)
	touch $@

install: $(VENV)/.installed

## Start the embedded database (or use MONGODB_URI), seed the demo account, serve GraphQL.
run: install
	$(BIN)/contactgraph serve

## Lint, type-check and run the whole suite against a real MongoDB wire-protocol server.
test: install lint typecheck pytest

lint: install
	$(BIN)/ruff check app tests bench
	$(BIN)/ruff format --check app tests bench

typecheck: install
	$(BIN)/mypy

pytest: install
	$(BIN)/pytest -q

schema: install
	$(BIN)/contactgraph export-schema > schema.graphql

## Benchmarks (not part of make test): an activity report over 100,000 activities.
bench-report: install
	$(BIN)/python -m bench.reports

## Load test (not part of make test): reads and event writes for 3 minutes, locust headless.
loadtest: install
	$(UV) sync --locked --all-extras --group load --python $(PYTHON)
	$(BIN)/python -m bench.loadtest

clean:
	rm -rf $(VENV) $(TOOLS) .mypy_cache .pytest_cache .ruff_cache
