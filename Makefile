# LibDesk: `make demo` runs the desk; `make test` runs the whole suite.
PYTHON ?= python3
VENV ?= .venv
PORT ?= 8000
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test install serve lint benchmark clean catalogs

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

# The translations (locale/*.po) compiled to .mo with polib: no GNU gettext needed.
catalogs: $(STAMP)
	$(BIN)/python manage.py compile_catalogs

demo: $(STAMP) catalogs
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo
	@echo ""
	@echo "LibDesk is running at http://127.0.0.1:$(PORT)/"
	@echo "  Chat Dashboard: http://127.0.0.1:$(PORT)/dashboard/"
	@echo "  Admin:          http://127.0.0.1:$(PORT)/admin/"
	@echo "  Sample library: http://127.0.0.1:$(PORT)/demo/"
	@echo ""
	$(BIN)/daphne -b 127.0.0.1 -p $(PORT) libdesk.asgi:application

test: $(STAMP) catalogs
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) var staticfiles .pytest_cache
