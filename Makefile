# Every target uses the project's own virtualenv (.venv), created by `make install`.
# Arguments: m="message" for migrate, rev=<revision> for upgrade/downgrade, ref=<git ref or folder> for
# compat, PORT for run.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask
PORT ?= 5000
rev ?=

.DEFAULT_GOAL := help
.PHONY: help install run test db db-stop migrate upgrade downgrade current history history-verbose revision merge stamp sql \
	reset-migrations check status validate drift compat lint-migrations squash release bench lint clean

help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  %-18s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

install: $(VENV)/.installed ## Create .venv and install the pinned requirements

$(VENV)/.installed: requirements.txt requirements-dev.txt constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit("Python 3.11+ is required, found " + sys.version.split()[0]) if sys.version_info < (3, 11) else None'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

run: install db upgrade ## Install, start the database, migrate, serve on 127.0.0.1:$PORT
	$(FLASK) run --host 127.0.0.1 --port $(PORT)

# Parallel test workers (pytest-xdist), each with its own throwaway PostgreSQL: TEST_WORKERS=0 runs serially.
# One more than the cores: about a sixth of the suite's time is spent waiting (lock queues, timeouts,
# paced load on a real gunicorn), and a spare worker runs tests meanwhile (2 cores: 98-104 s against
# 104-112 s with two).
# The cores this process may use (affinity, as xdist's `auto` counts them); `auto` if that fails.
TEST_WORKERS ?= $(shell $(BIN)/python -c 'import os; print(len(os.sched_getaffinity(0)) + 1)' 2>/dev/null || echo auto)

# Bytecode is cached even where PYTHONDONTWRITEBYTECODE is set: without it every worker re-does
# pytest's assertion rewrite of each plugin module (~4 s each) and every command it starts compiles
# the app again. The project's own modules are compiled up front (tests never edit these files).
test: install ## Run the linters and the test suite (on a throwaway PostgreSQL); prints its wall time
	@export MAKE_TEST_STARTED=$$(date +%s.%N) PYTHONDONTWRITEBYTECODE=; $(MAKE) --no-print-directory lint && \
		$(BIN)/python -m compileall -q app bench devdb migrations safemigrate config.py wsgi.py run_migration.py >/dev/null && \
		$(BIN)/pytest -n $(TEST_WORKERS) --dist worksteal

# With DATABASE_URL in the environment there is nothing to start: skip a flask start-up.
db: install ## Start the embedded development PostgreSQL (no-op if DATABASE_URL is set)
	@$(if $(DATABASE_URL),echo "DATABASE_URL is set: using that server",$(FLASK) devdb start)

db-stop: install ## Stop the embedded development PostgreSQL
	@$(FLASK) devdb stop

migrate: install db ## Autogenerate a revision from app/models.py: make migrate m="add x to items"
	@test -n "$(m)" || { echo 'usage: make migrate m="what changed"' >&2; exit 2; }
	$(FLASK) db migrate -m "$(m)"

upgrade: install db ## Apply migrations up to rev (default: head)
	$(FLASK) db upgrade -- $(if $(rev),$(rev),head)

downgrade: install db ## Undo migrations down to rev (default: one step, -1)
	$(FLASK) db downgrade -- $(if $(rev),$(rev),-1)

current: install db ## Show the database's current revision
	$(FLASK) db current

history: install ## List the revisions, newest first
	$(FLASK) db history

history-verbose: install ## The history with each revision's details
	$(FLASK) db history --verbose

revision: install ## Create an empty revision to write by hand: make revision m="backfill x"
	@test -n "$(m)" || { echo 'usage: make revision m="what it does"' >&2; exit 2; }
	$(FLASK) db revision -m "$(m)"

merge: install ## Merge several heads into one: make merge [m="merge heads"]
	$(FLASK) db merge heads -m "$(if $(m),$(m),merge heads)"

stamp: install db ## Record rev as applied without running it: make stamp rev=<revision>
	@test -n "$(rev)" || { echo 'usage: make stamp rev=<revision>' >&2; exit 2; }
	$(FLASK) db stamp -- $(rev)

# rev=A:B renders offline (no database): only the pending revisions need one.
sql: install $(if $(rev),,db) ## Print SQL without applying it: pending revisions, or make sql rev=A:B (no database)
	$(if $(rev),$(FLASK) db upgrade --sql -- $(rev),$(BIN)/python run_migration.py --sql)

reset-migrations: install db ## DEV ONLY: one fresh initial revision (old files and data kept); yes=1 skips the prompt
	$(FLASK) db reset-migrations $(if $(yes),--yes,)

check: install db ## Models match the migrations (flask db check) and every revision passes flask db lint
	$(FLASK) db check
	$(FLASK) db lint

status: install db ## Every revision: applied or pending, message, lint verdict
	$(FLASK) db status

validate: install db ## Applied revisions whose files changed or are gone since (flask db validate)
	$(FLASK) db validate

drift: install db ## Live schema vs the one its revisions build, with the SQL to fix it (flask db drift)
	$(FLASK) db drift

# On the app's database server: the proof builds and drops a scratch database there (db starts the dev one).
compat: install db ## Does the previous release run on this code's schema? make compat ref=origin/main (a git ref or a folder)
	@test -n "$(ref)" || { echo 'usage: make compat ref=<git ref or folder of the previous release>' >&2; exit 2; }
	$(FLASK) db compat --against "$(ref)"

lint-migrations: install ## Review revisions for dangerous operations (rev=A:B for a range)
	$(FLASK) db lint $(rev)

squash: install db ## Replace the revisions up to rev by one: make squash rev=<B> m="squash ..." (see MIGRATIONS.md)
	@test -n "$(rev)" -a -n "$(m)" || { echo 'usage: make squash rev=<B> m="squash the first N revisions"' >&2; exit 2; }
	$(FLASK) db squash -m "$(m)" -- $(rev)

release: install db ## Run the release-phase runner (run_migration.py) against the database
	$(BIN)/python run_migration.py

# The app's bytecode is compiled first, as a deployment has it, so timed commands do not compile it.
bench: install db ## Every benchmark (bench/run_all.py; tens of minutes); rewrites bench/results/ and the README's results
	$(BIN)/python -m compileall -q app bench devdb migrations safemigrate config.py wsgi.py run_migration.py >/dev/null
	$(BIN)/python -m bench.run_all

lint: install ## Ruff (lint, formatting), import-linter (the contracts in pyproject.toml), mypy on safemigrate
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache
	$(BIN)/mypy

clean: ## Stop the dev database and remove .venv and caches (keeps instance/ data)
	-test -x $(FLASK) && $(FLASK) devdb stop
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
