# Zora: one-command run and test.
#
#   make run                  migrate, load demo data, serve on 127.0.0.1:$(PORT)
#                             (embedded default: SQLite + in-memory channel layer)
#   make test [ARGS="-k x"]   whole suite against throwaway PostgreSQL + Redis
#   make venv                 (re)install Python deps when pyproject.toml changed
#   make chaos                the reliability suite's large profile (faults, races, fuzzing)
#   make bench [FULL=1]       benchmarks (quick profile; FULL=1 the full one) into docs/performance.md
#
# Recipes cd to the repo root so `make -C`/`make -f` from elsewhere work too.

ROOT   := $(patsubst %/,%,$(dir $(abspath $(lastword $(MAKEFILE_LIST)))))
VENV   := $(ROOT)/.venv
PY     := $(VENV)/bin/python
# Touched after a successful install; make reinstalls when pyproject.toml is newer.
STAMP  := $(VENV)/.zora-installed
PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
PORT   ?= 8000
ARGS   ?=

.PHONY: venv run test chaos bench

venv: $(STAMP)

$(STAMP): $(ROOT)/pyproject.toml
	@test -x $(PY) || { echo "creating $(VENV) with $(PYTHON)"; $(PYTHON) -m venv $(VENV); }
	cd $(ROOT) && $(PY) -m pip install --quiet -e ".[test]"
	@touch $@

# Embedded default: DATABASE_URL/REDIS_URL (e.g. left over from
# scripts/devenv.sh) are removed so `make run` always means SQLite + in-memory
# layer in this one daphne process.
EMBEDDED_ENV := env -u DATABASE_URL -u REDIS_URL -u CHANNEL_LAYER -u TEST_DATABASE_NAME

run: venv
	cd $(ROOT) && $(EMBEDDED_ENV) $(PY) manage.py migrate --noinput
	cd $(ROOT) && $(EMBEDDED_ENV) $(PY) manage.py seed_demo
	@echo ""
	@echo "Zora is starting on http://127.0.0.1:$(PORT)/"
	@echo ""
	@echo "  Landing page      http://127.0.0.1:$(PORT)/"
	@echo "  Vendor portal     http://127.0.0.1:$(PORT)/vendor/"
	@echo "  Admin dashboard   http://127.0.0.1:$(PORT)/dashboard/"
	@echo "  Django admin      http://127.0.0.1:$(PORT)/admin/"
	@echo "  API docs          http://127.0.0.1:$(PORT)/api/docs/"
	@echo "  Realtime socket   ws://127.0.0.1:$(PORT)/realtime/v1/websocket"
	@echo ""
	@echo "  Demo logins (password: zora-demo-pass)"
	@echo "    admin@zora.test       platform admin  -> /dashboard/, /admin/"
	@echo "    vendor@zora.test      vendor owner    -> /vendor/"
	@echo "    customer@zora.test    customer        -> API / mobile app"
	@echo "    applicant@zora.test   vendor applicant -> /vendor/ (their application)"
	@echo ""
	@echo "Ctrl-C to stop."
	cd $(ROOT) && exec $(EMBEDDED_ENV) $(VENV)/bin/daphne -b 127.0.0.1 -p $(PORT) zora.asgi:application

test:
	$(ROOT)/scripts/test.sh $(ARGS)

# The same throwaway services as `make test`; only the `reliability` tests, at their large counts.
chaos:
	RELIABILITY_PROFILE=large $(ROOT)/scripts/test.sh -m reliability $(ARGS)

# The bench extra (peer, uvicorn, psutil, httpx) on top of the test install.
bench: venv
	cd $(ROOT) && $(PY) -m pip install --quiet -e ".[test,bench]"
	$(ROOT)/bench/run.sh --profile $(if $(FULL),full,quick)
