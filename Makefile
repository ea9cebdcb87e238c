# One command to run the portal, one to test it. Each step leaves a stamp so that a second
# `make run` skips what is already done and starts in seconds.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMPS := .stamps
PORT ?= 5000
export FLASK_APP := portal

SASS_SOURCES := $(wildcard assets/scss/*.scss)
GOVUK := node_modules/govuk-frontend/dist/govuk

.PHONY: setup run test test-fast lint format db seed assets clean bench

setup: $(STAMPS)/python $(STAMPS)/assets

$(STAMPS):
	mkdir -p $(STAMPS)

$(STAMPS)/python: pyproject.toml | $(STAMPS)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

$(STAMPS)/node: package.json package-lock.json | $(STAMPS)
	npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
	touch $@

# Front-end assets come from the npm packages at set-up and are served from portal/static/,
# inside the package, so that the wheel carries them. After the Makefile, too: a checkout set up
# before the assets moved into the package builds them again.
STATIC := portal/static
$(STAMPS)/assets: $(STAMPS)/node $(SASS_SOURCES) Makefile
	mkdir -p $(STATIC)/css $(STATIC)/js/vendor $(STATIC)/govuk
	rm -rf $(STATIC)/govuk/assets && cp -R $(GOVUK)/assets $(STATIC)/govuk/assets
	cp $(GOVUK)/govuk-frontend.min.js $(STATIC)/js/vendor/govuk-frontend.min.js
	cp node_modules/htmx.org/dist/htmx.min.js $(STATIC)/js/vendor/htmx.min.js
	node_modules/.bin/sass --load-path=node_modules --style=compressed --no-source-map \
		--quiet-deps assets/scss/council.scss $(STATIC)/css/council.css
	touch $@

assets: $(STAMPS)/assets

db: $(STAMPS)/python
	$(BIN)/flask db upgrade

seed: db
	$(BIN)/flask seed-demo

# A worker runs beside the server, so mail appears in instance/mail/ as it is sent: with
# REDIS_URL set, the job queue's worker (mail and register imports); else the outbox loop.
run: setup seed
	if [ -n "$$REDIS_URL" ]; then $(BIN)/flask worker & else $(BIN)/flask outbox deliver & fi; \
	trap 'kill $$!' EXIT; \
	$(BIN)/flask run --host 127.0.0.1 --port $(PORT)

# The whole suite runs as two pytest processes side by side, one a core. One runs the
# browser tests (Chromium and a live server on a SQLite database of their own) and the
# deployment and seed tests (the wheel built and installed, seed-scale), under a worker name
# of its own (gw1: its own PostgreSQL and Redis databases); the other runs the rest on
# SQLite and PostgreSQL. Under pytest-xdist's scheduling the browser tests, which must stay
# on one worker, started late and CI took 17 minutes; split this way each side takes about
# the same time. The access matrix (every route as every role) joined the first side when
# training's routes made the rest the longer. Both must pass; the first's report follows the
# rest's. PYTEST_ARGS runs one pytest, as given.
SIDE_TESTS := tests/deploy tests/seed tests/access

test: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
ifeq ($(strip $(PYTEST_ARGS)),)
	@base=$$(mktemp -d); \
	( export PORTAL_TEST_WORKER=gw1; \
	  $(BIN)/python -m pytest -p no:xdist -m "not browser" $(SIDE_TESTS) --basetemp="$$base/side"; \
	  first=$$?; \
	  $(BIN)/python -m pytest -p no:xdist -m browser --basetemp="$$base/browser"; \
	  test $$first -eq 0 && test $$? -eq 0 ) \
	  > "$$base/side.log" 2>&1 & \
	side=$$!; \
	$(BIN)/python -m pytest -p no:xdist -m "not browser" $(SIDE_TESTS:%=--ignore=%) --basetemp="$$base/rest"; rest=$$?; \
	wait $$side; sides=$$?; \
	echo "--- the browser, deployment and seed tests ---"; cat "$$base/side.log"; rm -rf "$$base"; \
	test $$rest -eq 0 && test $$sides -eq 0
else
	$(BIN)/python -m pytest $(PYTEST_ARGS)
endif

# Everything but the tests marked slow (browser, worker processes, scale, sweeps of every page,
# the PostgreSQL runs: README's "Tests"), on every core: about two minutes on two.
# PYTEST_ARGS adds to it (e.g. PYTEST_ARGS="tests/buyback -x").
test-fast: setup
	$(BIN)/python -m pytest -n auto -m "not slow" $(PYTEST_ARGS)

lint: $(STAMPS)/python
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMPS)/python
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# The benchmark (issue #18; README "Benchmarks"): each page's cost in-process, then gunicorn
# and locust (a morning before the buy-back deadline, then more and more people) against the
# PostgreSQL database DATABASE_URL names (by default
# postgresql+psycopg://postgres@127.0.0.1:5432/bench), results in bench/RESULTS.md, about 15
# minutes. `make bench SEED=1` loads the demo data and seed-scale --factor $(FACTOR) first;
# BENCH_ARGS passes more (e.g. BENCH_ARGS="--duration 60 --steps 100,200").
SEED ?=
FACTOR ?= 10
BENCH_ARGS ?=

$(STAMPS)/bench: pyproject.toml $(STAMPS)/python
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	touch $@

bench: setup $(STAMPS)/bench
	$(BIN)/python -m bench.run $(if $(SEED),--seed --factor $(FACTOR)) $(BENCH_ARGS)

clean:
	rm -rf $(VENV) node_modules $(STAMPS) $(STATIC)/css $(STATIC)/js/vendor $(STATIC)/govuk
