# Yizhan 一站: developer entry points. `make run` serves the demo, `make test` runs the whole check.
# See README.md; every environment variable is described in .env.example.

SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.NOTPARALLEL:
.DEFAULT_GOAL := help

VENV   := .venv
PY     := $(VENV)/bin/python
MANAGE := $(PY) manage.py
# -q, and no setuptools banner about editable installs; pip's errors still show.
PIP_INSTALL := PYTHONWARNINGS=ignore $(PY) -m pip install -q
# Python 3.11: python3.11, else python3 when it is 3.11 (override with PYTHON=/path/to/python3.11).
PYTHON ?=
# Directories named locale in the project (not in the venv): compilemessages runs only when there is one.
LOCALE_DIRS = $(shell find . \( -path ./.venv -o -path ./.git -o -path ./node_modules \) -prune -o -type d -name locale -print)
COMPILEMESSAGES = $(MANAGE) compilemessages --ignore=.venv --ignore=node_modules -v 0

# make run: the embedded defaults (SQLite, in-memory channel layer, in-process tasks), whatever the shell has set.
HOST := 127.0.0.1
PORT ?= 8000
# Every link the demo prints or sends (SMS in var/sms.log, calendar feeds) names this address.
SITE_URL ?= http://$(HOST):$(PORT)
RUN_ENV = env -u DATABASE_URL -u DATABASE_URL_FILE -u REDIS_URL -u REDIS_URL_FILE -u CHANNEL_LAYER \
	-u CHANNEL_LAYER_FILE -u CELERY_BROKER_URL -u CELERY_BROKER_URL_FILE -u CELERY_TASK_ALWAYS_EAGER \
	-u CELERY_TASK_ALWAYS_EAGER_FILE DEBUG=1 SITE_URL='$(SITE_URL)' SMS_BACKEND=file

# make test / make bench: real PostgreSQL and Redis. DATABASE_URL and REDIS_URL from the environment win;
# the tests own Redis DB 13 under their own key prefix.
TEST_DATABASE_URL := $(or $(DATABASE_URL),postgres://postgres@127.0.0.1:5432/yizhan)
TEST_REDIS_URL    := $(or $(REDIS_URL),redis://127.0.0.1:6379/13)
TEST_REDIS_PREFIX ?= yizhan-test
TEST_ENV := env DATABASE_URL='$(TEST_DATABASE_URL)' REDIS_URL='$(TEST_REDIS_URL)' \
	REDIS_PREFIX='$(TEST_REDIS_PREFIX)' CELERY_TASK_ALWAYS_EAGER=1
ARGS ?=
# pytest runs inside the media network namespace (scripts/media-netns.sh; docs/decisions.md): WebRTC there
# pairs over a private veth pair, never over this machine's interfaces. PostgreSQL and Redis on 127.0.0.1
# are bridged into it over unix sockets, so the URLs above stay as they are. Needs root (CI runs as root);
# otherwise pytest runs here and the tests marked `media` fail with a message.
MEDIA_NETNS ?= yizhan-test
IN_MEDIA_NETNS = $(if $(filter 0,$(shell id -u)),scripts/media-netns.sh exec $(MEDIA_NETNS),)
# pytest-xdist: PYTEST_WORKERS processes share the suite (much of it waits on Chromium, media, Janus and
# sleeps). Each worker has its own test database (pytest-django's test_<name>_gw<n>) and Redis prefix
# (REDIS_PREFIX-gw<n>, tests/conftest.py); --dist loadgroup keeps @pytest.mark.xdist_group tests on one worker.
# PYTEST_WORKERS=0 runs serially in one process, as before (handy for one test: no workers to start).
PYTEST_WORKERS ?= 2
PYTEST_PARALLEL = $(if $(filter 0,$(PYTEST_WORKERS)),,-n $(PYTEST_WORKERS) --dist loadgroup)

.PHONY: help run test bench lint lock clean system services test-setup

help:
	@echo "make run    serve the demo on http://$(HOST):$(PORT)/ (SQLite, in-memory layer, demo accounts)"
	@echo "make test   install what is missing, start PostgreSQL/Redis, lint, type-check, node --test, pytest"
	@echo "            one test: make test ARGS=\"tests/path.py::test_name\" PYTEST_WORKERS=0"
	@echo "            PYTEST_WORKERS=2 pytest processes by default (0: serially in one process)"
	@echo "make bench  the benchmarks in tests/bench (bench_*.py), BENCH_RUNS=3 times: var/bench/report.md"
	@echo "make lint   ruff + mypy + lint-imports (the layer contracts)"
	@echo "make lock   pin the dependencies of pyproject.toml anew in requirements/*.txt (LOCK_ARGS=--upgrade)"
	@echo "make clean  remove the install stamps, var/ and db.sqlite3"

# --- virtualenv: the exact versions of the lock files (re-installs when a lock or pyproject.toml changes) ---
# requirements/run.txt pins what `make run` needs, requirements/dev.txt adds the tools of `make test`; both
# come from pyproject.toml through `make lock`. pip check fails when pyproject.toml asks for something the
# lock lacks (a dependency added without `make lock`).
LOCK_RUN := requirements/run.txt
LOCK_DEV := requirements/dev.txt

$(PY):
	@py=$$(PYTHON='$(PYTHON)' scripts/ensure-python.sh) && echo "$$py -m venv $(VENV)" && "$$py" -m venv $(VENV)

$(VENV)/.installed: $(LOCK_RUN) pyproject.toml | $(PY)
	@echo "pip install -r $(LOCK_RUN) && pip install --no-deps -e . (into $(VENV))"
	@$(PIP_INSTALL) -r $(LOCK_RUN)
	@$(PIP_INSTALL) --no-deps -e .
	@$(PY) -m pip check -q >/dev/null || { $(PY) -m pip check; echo "run make lock" >&2; exit 1; }
	@touch $@

$(VENV)/.installed-dev: $(LOCK_DEV) pyproject.toml | $(PY)
	@echo "pip install -r $(LOCK_DEV) && pip install --no-deps -e . (into $(VENV))"
	@$(PIP_INSTALL) -r $(LOCK_DEV)
	@$(PIP_INSTALL) --no-deps -e .
	@$(PY) -m pip check -q >/dev/null || { $(PY) -m pip check; echo "run make lock" >&2; exit 1; }
	@touch $@ $(VENV)/.installed  # the dev lock holds every pin of the run lock

# No index URL, host or local path goes into a lock file: they belong to the machine's pip configuration.
PIP_COMPILE = $(VENV)/bin/pip-compile --quiet --strip-extras --allow-unsafe --no-emit-index-url \
	--no-emit-trusted-host --no-emit-find-links $(LOCK_ARGS)
LOCK_ARGS ?=

# Only pip-tools is needed to lock: installing from a lock that lacks a new dependency would fail pip check.
$(VENV)/bin/pip-compile: | $(PY)
	@$(PIP_INSTALL) "pip-tools>=7.5,<8"

lock: $(VENV)/bin/pip-compile
	$(PIP_COMPILE) --output-file $(LOCK_RUN) pyproject.toml
	$(PIP_COMPILE) --extra dev --constraint $(LOCK_RUN) --output-file $(LOCK_DEV) pyproject.toml

# --- run -----------------------------------------------------------------------------------------------
run: $(VENV)/.installed
	@if command -v msgfmt >/dev/null && [ -n "$(LOCALE_DIRS)" ]; then $(RUN_ENV) $(COMPILEMESSAGES); fi
	$(RUN_ENV) $(MANAGE) migrate --noinput
	$(RUN_ENV) $(MANAGE) collectstatic --noinput -v 0
	$(RUN_ENV) $(MANAGE) seed_demo --room-session --statistics-cases
	$(RUN_ENV) $(MANAGE) seed_demo_api
	@echo "Yizhan is at http://$(HOST):$(PORT)/ and the admin at http://$(HOST):$(PORT)/admin/ (Ctrl-C stops it)"
	@mkdir -p var
	$(RUN_ENV) HOST=$(HOST) PORT=$(PORT) scripts/run-demo.sh

# --- test ----------------------------------------------------------------------------------------------
system:
	@scripts/ensure-system.sh

services:
	@$(TEST_ENV) scripts/ensure-services.sh

# Static files are collected for the tests too: WhiteNoise serves STATIC_ROOT to the browser tests
# (and warns, which the suite turns into an error, when var/static is missing).
test-setup: system $(VENV)/.installed-dev services
	@$(TEST_ENV) $(MANAGE) collectstatic --noinput -v 0

lint: $(VENV)/.installed-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports --no-cache

test: test-setup lint
	node --test tests/js/*.test.mjs
	$(TEST_ENV) $(MANAGE) makemigrations --check --dry-run
	@if [ -n "$(LOCALE_DIRS)" ]; then echo "compilemessages"; $(TEST_ENV) $(COMPILEMESSAGES); fi
	$(TEST_ENV) $(IN_MEDIA_NETNS) $(VENV)/bin/pytest --create-db $(PYTEST_PARALLEL) $(ARGS)

# Benchmarks: BENCH_RUNS runs of tests/bench/bench_*.py (the issue asks for the median of three), each figure
# recorded with its run and the load average (tests/bench/results_support.py); then var/bench/results.json
# and var/bench/report.md are written and the table printed. pytest's exit 5 ("no tests collected") counts as
# success. One bench: make bench ARGS="-k clerk_queue" BENCH_RUNS=1
BENCH_RUNS ?= 3
# The room socket benches use only loopback: they run outside the media namespace, whose socat bridges to
# PostgreSQL and Redis (two hops per Redis command) would be part of every latency they measure.
BENCH_LOOPBACK := tests/bench/bench_room_signaling.py tests/bench/bench_room_anchors.py \
	tests/bench/bench_room_reconnect.py
bench: test-setup
	@mkdir -p var/bench && rm -f var/bench/runs.jsonl
	@status=0; for run in $$(seq 1 $(BENCH_RUNS)); do \
		echo "== bench run $$run of $(BENCH_RUNS) (load average $$(cut -d' ' -f1-3 /proc/loadavg))"; \
		create=$$([ $$run -eq 1 ] && echo --create-db || true); \
		BENCH_RUN=$$run $(TEST_ENV) $(IN_MEDIA_NETNS) $(VENV)/bin/pytest tests/bench -o python_files='bench_*.py' $(ARGS) \
			$(addprefix --ignore=,$(BENCH_LOOPBACK)) -p no:randomly -s $$create || { s=$$?; [ $$s -eq 5 ] || status=$$s; }; \
		BENCH_RUN=$$run $(TEST_ENV) $(VENV)/bin/pytest $(BENCH_LOOPBACK) -o python_files='bench_*.py' $(ARGS) \
			-p no:randomly -s || { s=$$?; [ $$s -eq 5 ] || status=$$s; }; \
	done; \
	$(TEST_ENV) $(PY) -m tests.bench.report; exit $$status

clean:
	rm -f $(VENV)/.installed $(VENV)/.installed-dev
	rm -rf var db.sqlite3
