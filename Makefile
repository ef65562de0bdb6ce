# Tollgate — `make run` starts the whole suite, `make test` runs every test.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
UV := $(BIN)/uv
STAMP := $(VENV)/.synced
DASHBOARD := gateway-edge/dashboard
DASHBOARD_STAMP := $(DASHBOARD)/node_modules/.installed
NODE_CLIENTS := tests/clients/node
NODE_CLIENTS_STAMP := $(NODE_CLIENTS)/node_modules/.installed
PROTO_FILES := $(shell find protos/tollgate -name '*.proto')

TIERS := unit integration suite faults clients e2e deploy

.PHONY: run test $(addprefix test-,$(TIERS)) install protos check-protos lint typecheck buf-lint \
	buf-breaking bytecode bench clean

run: install
	$(BIN)/tollgate up

# Every tier, plus the checks.
test: install check-protos lint typecheck buf-lint buf-breaking bytecode
	$(BIN)/pytest --durations=25

# One tier alone (tests/README.md): `make test-unit` starts no process and takes seconds.
$(addprefix test-,$(TIERS)): test-%: install bytecode
	$(BIN)/pytest -m $*

# The repository's own modules compiled too (each test starts dozens of processes); a module
# edited later is compiled again in memory, as without this.
bytecode: install
	$(BIN)/python -m compileall -q -j 0 -x 'node_modules' services gateway-edge cli protos/gen tests bench

install: $(STAMP) $(DASHBOARD_STAMP) $(NODE_CLIENTS_STAMP)

$(UV):
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check 'uv==0.13.9'

# Compiled once here: where PYTHONDONTWRITEBYTECODE is set (as in many images) Python writes no
# .pyc itself, and every process would compile SQLAlchemy & co. again (~1 s of CPU each start).
$(STAMP): $(UV) uv.lock pyproject.toml $(wildcard */pyproject.toml services/*/pyproject.toml)
	UV_PROJECT_ENVIRONMENT=$(VENV) $(UV) sync --all-packages --frozen --quiet --compile-bytecode
	touch $(STAMP)

# The dashboard's charting library (an npm package, pinned by package-lock.json).
$(DASHBOARD_STAMP): $(DASHBOARD)/package.json $(DASHBOARD)/package-lock.json
	npm ci --prefix $(DASHBOARD) --no-audit --no-fund --loglevel=error
	touch $(DASHBOARD_STAMP)

# The Node clients the suite drives Tollgate with (openai, @anthropic-ai/sdk, ai + @ai-sdk/*,
# @mastra/core, and Claude Code: its native binary comes in a platform package of the npm
# registry; pinned by the lock file). Skipped without npm: the tests that need them skip.
$(NODE_CLIENTS_STAMP): $(NODE_CLIENTS)/package.json $(NODE_CLIENTS)/package-lock.json
	@if command -v npm >/dev/null; then \
	  npm ci --prefix $(NODE_CLIENTS) --no-audit --no-fund --loglevel=error && touch $(NODE_CLIENTS_STAMP); \
	else echo "npm not found: the Node client tests will skip"; fi

# Generated stubs are checked in; `make protos` rewrites them, `check-protos` fails on drift.
protos: $(UV)
	UV_PROJECT_ENVIRONMENT=$(VENV) $(UV) sync --all-packages --frozen --quiet --compile-bytecode
	$(BIN)/python tools/gen_protos.py protos/gen

check-protos: install
	$(BIN)/python tools/gen_protos.py --check protos/gen

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy -p tollgate_common -p tollgate_auth -p tollgate_router -p tollgate_billing -p tollgate_activity -p tollgate_edge -p tollgate_cli

buf-lint: install
	$(BIN)/buf lint

# Compares the protos with main's (a no-op until main has protos).
buf-breaking: install
	@if git rev-parse --verify --quiet main >/dev/null && git cat-file -e main:buf.yaml 2>/dev/null; then \
	  $(BIN)/buf breaking --against '.git#branch=main'; \
	else echo "buf breaking: main has no protos yet, nothing to compare"; fi

# Tollgate, LiteLLM (its own pinned venv, bench/peers/), a bare Envoy hop and the fake providers
# in one run (README "Performance"); `make bench BENCH_ARGS=--quick` for a ~3-minute run.
bench: install
	$(BIN)/python bench/run.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .tollgate $(DASHBOARD)/node_modules $(NODE_CLIENTS)/node_modules
