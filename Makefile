# AIMS: `make run` starts the whole stack on http://127.0.0.1:8000; `make test` runs lint and the whole suite on
# SQLite and on PostgreSQL. Everything installs into .venv from requirements-dev.txt (production: requirements.txt).

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
export PATH := $(CURDIR)/$(BIN):$(PATH)

.PHONY: run install browser-deps test lint format migrations lock clean bench openapi

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# requirements-dev.txt: what production needs (requirements.txt, the same pins) plus the demo's, tests' and
# benchmarks' tools, every file checked against its hash.
$(VENV)/.installed: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet --require-hashes -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed

# The processes run under honcho (aimsweb/stack.py): a "ready" banner with the URL and the demo logins once the web
# server answers; Ctrl-C (or SIGTERM to the pid in var/run/stack.pid) stops them all with status 0.
run: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py collectstatic --noinput --verbosity 0
	$(BIN)/python manage.py demo_setup
	$(BIN)/python manage.py sync_schedules
	$(BIN)/python -m aimsweb.stack Procfile

# The browser tests (tests/browser) drive Debian's Chromium through Playwright (never a browser Playwright downloads).
browser-deps:
	@command -v chromium >/dev/null || { \
	  if [ "$$(id -u)" != 0 ]; then echo "browser-deps: Chromium is missing; install Debian's chromium package" >&2; exit 1; fi; \
	  echo "browser-deps: installing Debian's chromium package" >&2; \
	  apt-get update -q >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium fonts-liberation >&2; \
	}

# Both suites include the browser tests; AIMS_REQUIRE_BROWSER turns their skip (no Chromium) into a failure.
test: install lint browser-deps
	@echo "== pytest on SQLite"
	AIMS_REQUIRE_BROWSER=1 DATABASE_URL=sqlite:///$(CURDIR)/var/test.sqlite3 $(BIN)/pytest
	@echo "== pytest on PostgreSQL"
	AIMS_REQUIRE_BROWSER=1 scripts/with-postgres $(BIN)/pytest

# Benchmarks against a throw-away PostgreSQL; table on stdout, figures in var/bench/results.json.
bench: install
	scripts/with-postgres $(BIN)/python -m bench.run $(BENCH)

# Style, then the layer contract (.importlinter: no app imports a layer above it), then types (pyproject.toml).
lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/mypy

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# The committed OpenAPI document (api/openapi.yaml), written again from the code; a test fails when they differ.
openapi: install
	AIMS_ENV_FILE= $(BIN)/python manage.py spectacular --validate --fail-on-warn --file api/openapi.yaml

migrations: install
	$(BIN)/python manage.py makemigrations
	$(BIN)/ruff format */migrations

# Re-pin requirements.txt (production) and requirements-dev.txt (everything else too) from their .in files, with
# hashes, using pip-tools in a scratch environment.
LOCK_FLAGS := --quiet --generate-hashes --allow-unsafe --strip-extras --no-emit-find-links --no-emit-index-url \
	--no-emit-trusted-host --no-header
lock:
	rm -rf var/lock-venv && $(PYTHON) -m venv var/lock-venv
	var/lock-venv/bin/pip install --quiet pip-tools
	var/lock-venv/bin/pip-compile $(LOCK_FLAGS) --output-file requirements.txt requirements.in
	var/lock-venv/bin/pip-compile $(LOCK_FLAGS) --output-file requirements-dev.txt requirements-dev.in
	rm -rf var/lock-venv

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
