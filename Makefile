# Renzhi 韧治 — the two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# pytest workers: one per core (2 on CI).
WORKERS ?= 2

.PHONY: run test install install-dev system-test-deps migrate demo serve lint format typecheck messages bench clean

run: install migrate demo serve ## venv, install, migrate, demo city, serve on :8000

test: install-dev system-test-deps lint ## the whole suite: lint, types, unit and browser tests
	$(BIN)/pytest -n $(WORKERS) --dist loadgroup -p no:cacheprovider

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: requirements.txt pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements-dev.txt $(VENV)/.installed
	$(BIN)/pip install -q -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

# Browser tests drive Debian's chromium (never a downloaded browser) and need CJK fonts.
system-test-deps:
	@if [ ! -x /usr/bin/chromium ] || ! fc-list 2>/dev/null | grep -qi "Noto Sans CJK"; then \
		echo "Installing chromium and fonts-noto-cjk with apt-get"; \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium fonts-noto-cjk >/dev/null; \
	fi

migrate: install
	DEBUG=1 $(BIN)/python manage.py migrate --noinput

demo: install
	DEBUG=1 $(BIN)/python manage.py demo_city
	DEBUG=1 $(BIN)/python manage.py refresh_appeal_metrics

serve: install
	@echo "Renzhi is at http://$(HOST):$(PORT)/  (Ctrl-C to stop)"
	DEBUG=1 $(BIN)/python manage.py runserver $(HOST):$(PORT)

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	RENZHI_TESTING=1 $(BIN)/mypy renzhi

format: install-dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Apps with their own catalogue (renzhi/<app>/locale) are left out of the project catalogue.
APP_LOCALE_DIRS := $(dir $(wildcard renzhi/*/locale))

messages: install-dev ## refresh the translation catalogues after changing UI strings
	DEBUG=1 $(BIN)/python manage.py makemessages -l zh_Hans -l en --ignore=.venv --ignore=bench \
		$(foreach d,$(APP_LOCALE_DIRS),--ignore=$(d)*) --no-obsolete
	for d in $(APP_LOCALE_DIRS); do \
		(cd $$d && ../../$(BIN)/django-admin makemessages -l zh_Hans -l en --no-obsolete) || exit 1; \
	done
	DEBUG=1 $(BIN)/python manage.py compilemessages --ignore=.venv

BENCHES := $(filter-out bench/benchkit.py,$(wildcard bench/*.py))

bench: install-dev ## every benchmark in turn (some take minutes; see bench/README.md)
	for b in $(BENCHES); do $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .mypy_cache .ruff_cache
