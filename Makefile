# Moat map. `make run` serves the demo; `make test` runs the whole suite.
# The newest Python from 3.13 down to 3.11 that actually runs (a version manager's shim can
# sit on PATH with no interpreter behind it); override with `make PYTHON=/path/to/python3.x`.
PYTHON ?= $(shell for v in 3.13 3.12 3.11; do \
	  python$$v -c 'import sys; assert sys.version_info >= (3, 11)' >/dev/null 2>&1 && { echo python$$v; break; }; \
	done)
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint format install bench load test-faults clean

$(BIN)/python:
	@test -n "$(PYTHON)" || { echo "Moat map needs Python 3.11, 3.12 or 3.13 and found none that runs." \
	  "Install one (Debian: apt-get install python3 python3-venv) or name it: make PYTHON=/path/to/python3.12"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Reinstall whenever the dependencies change.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: export DEBUG ?= true
run: $(STAMP)
	mkdir -p var/static
	$(BIN)/python manage.py migrate --noinput
	@# Hashed, gzip- and brotli-compressed copies, as production serves them (the first run
	@# compresses plotly.js for about half a minute; later runs only what changed).
	$(BIN)/python manage.py collectstatic --noinput --verbosity 0
	$(BIN)/python manage.py load_demo --if-empty
	$(BIN)/python manage.py runserver $(HOST):$(PORT)

# The suite runs on as many workers as the machine has cores (pytest-xdist; each worker its own
# test database and Redis database); PYTEST_ARGS="-n 0" runs it in one process.
test: $(STAMP)
	mkdir -p var/static
	$(BIN)/ruff check .
	$(BIN)/lint-imports --no-cache
	$(BIN)/vulture
	$(BIN)/python -m pytest -n auto --dist loadfile $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports --no-cache
	$(BIN)/vulture
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf var/moatmap.sqlite3 var/static

# Figures for docs/quality.md on the local PostgreSQL (the bench database is rebuilt);
# `make bench SCALE=10` builds ten times the portfolio (not run by CI).
bench: export DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/moatmap_bench
bench: export SCALE ?= 1
bench: $(STAMP)
	$(BIN)/python bench/run.py

# gunicorn + two Celery workers + 50 simulated users for 60 s on loopback, then checks.
load: export DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/moatmap_load
load: $(STAMP)
	$(BIN)/python bench/load.py
