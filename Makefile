# Two commands on a fresh machine with Python >= 3.11 and make:
#   make run    set up, load demo data once, serve http://127.0.0.1:8000 with its worker
#   make test   the whole test suite
# With DATABASE_URL=postgres://... both use PostgreSQL instead of SQLite.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
MANAGE := $(BIN)/python manage.py
DEMO_PROVIDERS ?= 300

.PHONY: run test relevance lint format install migrate demo bench bench-floor bench-tools screenshots clean

$(BIN)/python:
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11 or newer is needed"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Reinstall only when the dependencies change.
$(VENV)/.installed: pyproject.toml constraints.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[dev]"
	touch $@

install: $(VENV)/.installed

migrate: install
	$(MANAGE) migrate --noinput

demo: migrate
	$(MANAGE) seed_demo --providers $(DEMO_PROVIDERS) --photos 60 --if-empty

# The site and its background worker (emails, imports); Ctrl+C stops both.
run: demo
	$(MANAGE) local_staff
	trap 'kill 0' EXIT; $(MANAGE) db_worker --queue-name '*' & $(MANAGE) runserver 127.0.0.1:8000

test: install
	$(BIN)/pytest

# The relevance set (tests/relevance/searches.py) on the demo data: prints the share of
# searches met and any missed; fails unless all are met. make bench runs it at 100,000.
relevance: install
	$(BIN)/pytest -q -p no:cacheprovider tests/relevance

# Measures the real site under gunicorn on PostgreSQL (see bench/run.py); SCALE=1m for 1,000,000.
bench: bench-tools
	$(BIN)/python bench/run.py

# The results page's throughput with and without its search work (see bench/floor.py).
bench-floor: bench-tools
	$(BIN)/python bench/floor.py

# What the benchmarks need beyond the project: wrk, and the `bench` extras (the plot's library).
bench-tools: install
	@command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk) || (echo "install wrk" && false)
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[dev,bench]"

# Refresh the README's screenshots (docs/screenshots/) from the browser tests.
screenshots: install
	SCREENSHOTS_DIR=docs/screenshots $(BIN)/pytest -q tests/browser/test_screenshots.py

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles .pytest_cache .ruff_cache
