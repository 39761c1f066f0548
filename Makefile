# The two commands a newcomer needs: `make run` and `make test`. Both install what they need.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 8000

.PHONY: install run serve worker migrate demo test test-pg lint format bench clean up

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

migrate: install
	DEBUG=1 $(BIN)/python manage.py migrate --noinput

demo: migrate
	DEBUG=1 $(BIN)/python manage.py seed_demo

# Sets up SQLite, loads demo data and logins, then serves the admin and API on :$(PORT)
# with the background worker (refunds, notifications) running beside it.
run: demo
	@echo "Admin: http://127.0.0.1:$(PORT)/admin/   API docs: http://127.0.0.1:$(PORT)/api/docs/"
	@DEBUG=1 $(BIN)/python manage.py db_worker & WORKER=$$!; \
	DEBUG=1 $(BIN)/python manage.py webhooks_dispatch --loop & DISPATCH=$$!; \
	trap "kill $$WORKER $$DISPATCH 2>/dev/null" EXIT INT TERM; \
	DEBUG=1 $(BIN)/python manage.py runserver 127.0.0.1:$(PORT)

worker: install
	DEBUG=1 $(BIN)/python manage.py db_worker

# The production shape on this machine (docs/operations.md, "Running the production shape"): settings from .env
# (cp .env.example .env): every Procfile process under honcho, web on $(PORT).
up: install
	test -f .env || (echo "cp .env.example .env first (and create its database)" >&2; exit 1)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/honcho start -p $(PORT)

test: install
	$(BIN)/python -m pytest --ds=config.test_settings

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Benchmarks (scratch databases; BENCH_DATABASE_URL=postgres://... to measure PostgreSQL).
# bench_scale: data, API vs a bare-Django floor, growth, admin and memory at 1k/100k/1M issues on PostgreSQL
# (BENCH_PG, default postgres://postgres@127.0.0.1:5432) with wrk; BENCH_ORDERS=200,20000 for a quick run,
# BENCH_ARGS=--reuse to keep seeded databases. Not part of `make test`.
BENCH_ORDERS ?= 200,20000,200000
bench: install
	$(BIN)/python tests/bench/bench_outbox.py
	$(BIN)/python tests/bench/bench_scale.py --orders $(BENCH_ORDERS) $(BENCH_ARGS)

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles .pytest_cache

# Long schemathesis run over every API operation (FUZZ_EXAMPLES per operation; CI runs 50 in `make test`).
.PHONY: fuzz
fuzz: install
	FUZZ_EXAMPLES=$${FUZZ_EXAMPLES:-1000} $(BIN)/python -m pytest --ds=config.test_settings -q tests/hardening/test_fuzz.py
