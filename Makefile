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

.PHONY: install run test lint typecheck pytest schema bench bench-report loadtest browser graphiql-assets clean

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
	$(BIN)/contactgraph export-schema --client > schema.client.graphql

## Benchmarks (not part of make test): Q1/Q2/Q3/W1 against the floor, a naive
## implementation and an Apollo peer (npm), on 10,000 contacts x 50 activities.
bench: install
	$(BIN)/python -m bench.suite $(BENCH_ARGS)

## An activity report over 100,000 activities.
bench-report: install
	$(BIN)/python -m bench.reports

## Load test (not part of make test): reads and event writes for 3 minutes, locust headless.
loadtest: install
	$(UV) sync --locked --all-extras --group load --python $(PYTHON)
	$(BIN)/python -m bench.loadtest

## Debian's Chromium and ChromeDriver for the GraphiQL browser test, and Node.js for the
## GraphQL-over-HTTP audit (root; CI runs it).
browser:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || { \
		export DEBIAN_FRONTEND=noninteractive; \
		apt-get install -y -q chromium chromium-driver || { apt-get update -q && apt-get install -y -q chromium chromium-driver; }; }
	@command -v node >/dev/null && command -v npm >/dev/null || { \
		export DEBIAN_FRONTEND=noninteractive; \
		apt-get install -y -q nodejs npm || { apt-get update -q && apt-get install -y -q nodejs npm; }; }

## Refresh the pinned GraphiQL build in app/static/graphiql from the npm registry.
GRAPHIQL := graphiql@3.9.0 react@18.3.1 react-dom@18.3.1 graphql-ws@5.16.2
graphiql-assets:
	rm -rf .tools/npm && mkdir -p .tools/npm
	cd .tools/npm && npm pack --silent $(GRAPHIQL) && for f in *.tgz; do mkdir -p $${f%.tgz} && tar xzf $$f -C $${f%.tgz}; done
	cp .tools/npm/graphiql-*/package/graphiql.min.js .tools/npm/graphiql-*/package/graphiql.min.css app/static/graphiql/
	cp .tools/npm/react-1*/package/umd/react.production.min.js .tools/npm/react-dom-*/package/umd/react-dom.production.min.js app/static/graphiql/
	cp .tools/npm/graphql-ws-*/package/umd/graphql-ws.min.js app/static/graphiql/
	cd app/static/graphiql && sha256sum *.js *.css > SHA256SUMS

clean:
	rm -rf $(VENV) $(TOOLS) .mypy_cache .pytest_cache .ruff_cache
