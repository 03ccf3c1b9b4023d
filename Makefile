# LibDesk: `make demo` runs the desk; `make test` runs the whole suite.
PYTHON ?= python3
VENV ?= .venv
PORT ?= 8000
# make demo HOST=0.0.0.0 (or an address of this machine): reachable from other machines.
HOST ?= 127.0.0.1
# make stack: the native production stack's env file and folder (deploy/stack.py).
STACK_DIR ?= var/stack
STACK_ENV ?= $(STACK_DIR)/stack.env
STACK_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/libdesk_stack
STACK_REDIS_URL ?= redis://127.0.0.1:6379/1
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# make demo installs the desk alone (pure-Python wheels: nothing but Python needed); the
# test extras add python-ldap, which builds against Debian's libldap-dev (CI installs it).
DEMO_STAMP := $(VENV)/.installed-demo

.PHONY: demo test install serve lint benchmark clean catalogs stack stack-up stack-down stack-test

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP) $(DEMO_STAMP)

$(DEMO_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	touch $(DEMO_STAMP)

install: $(STAMP)

# The translations (locale/*.po) compiled to .mo with polib: no GNU gettext needed.
catalogs: $(DEMO_STAMP)
	$(BIN)/python manage.py compile_catalogs

demo: $(DEMO_STAMP) catalogs
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo
	@echo ""
	@for url in $$($(BIN)/python -m deploy.demo_host --urls $(HOST) $(PORT)); do \
	  echo "LibDesk is running at $$url"; \
	  echo "  Chat Dashboard: $${url}dashboard/"; \
	  echo "  Admin:          $${url}admin/"; \
	  echo "  Sample library: $${url}demo/"; \
	done
	@case "$(HOST)" in 127.*|localhost|::1) echo "  (this machine only: make demo HOST=0.0.0.0 to open it to the network)";; \
	  *) echo "  (open to the network over plain HTTP: a trial, not production; see docs/operations.md)";; esac
	@echo ""
	ALLOWED_HOSTS="$$($(BIN)/python -m deploy.demo_host --allowed $(HOST))" \
	  $(BIN)/daphne -b $(HOST) -p $(PORT) libdesk.asgi:application

test: $(STAMP) catalogs
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The production topology on this machine (nginx + TLS, Gunicorn, two Daphne, Celery
# worker and beat, PostgreSQL and Redis), from $(STACK_ENV) alone; Ctrl-C stops it.
$(STACK_ENV):
	mkdir -p $(STACK_DIR)
	$(BIN)/python -m deploy.stack init-env $(STACK_ENV) DATABASE_URL=$(STACK_DATABASE_URL) \
	  REDIS_URL=$(STACK_REDIS_URL) CHANNELS_PREFIX=stack EMAIL_BACKEND=console \
	  ALLOWED_HOSTS=localhost,127.0.0.1 LIBDESK_PUBLIC_URL=https://localhost:8443 \
	  CSRF_TRUSTED_ORIGINS=https://localhost:8443 WIDGET_ALLOWED_EMBEDDERS='*' SECURE_HSTS_SECONDS=0
	@echo "wrote $(STACK_ENV) (from .env.example, with a new SECRET_KEY)"

stack: $(STAMP) catalogs $(STACK_ENV)
	$(BIN)/python -m deploy.stack run --env-file $(STACK_ENV) --dir $(STACK_DIR)

stack-up: $(STAMP) catalogs $(STACK_ENV)
	$(BIN)/python -m deploy.stack up --env-file $(STACK_ENV) --dir $(STACK_DIR)

stack-down:
	$(BIN)/python -m deploy.stack down --env-file $(STACK_ENV) --dir $(STACK_DIR)

# Brings a stack of its own up (free ports, its own database), runs every check through
# its proxy (tests/e2e/stack/), stops everything it started. Needs DATABASE_URL and REDIS_URL
# (the servers to use; the stack makes a database and a key prefix of its own).
stack-test: $(STAMP) catalogs
	$(BIN)/python -m pytest tests/e2e/stack $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) var staticfiles .pytest_cache
