# Quick start: `make run` serves the portal, `make test` runs the whole suite. See README.md.
PYTHON ?= python3
PORT ?= 8000
VENV := .venv
PY := $(VENV)/bin/python

# Local use is plain HTTP on 127.0.0.1: the HTTPS-only defaults (on whenever DEBUG is off) are
# turned off here, unless the environment says otherwise.
export PORT
export SECURE_SSL_REDIRECT ?= false
export SESSION_COOKIE_SECURE ?= false
export CSRF_COOKIE_SECURE ?= false
export SECURE_HSTS_SECONDS ?= 0

.PHONY: run test browser screenshots

# For `make run` only: the built-in demo receiver (seed_demo) lives on this machine, so let
# deliveries reach 127.0.0.1. Anywhere else, leave it unset so deliveries only go to public addresses.
run: export WEBHOOK_ALLOWED_NETWORKS ?= 127.0.0.0/8

run: $(VENV)/.installed
	$(PY) manage.py migrate --noinput -v0
	$(PY) manage.py collectstatic --noinput -v0
	$(PY) manage.py offer_first_login --url http://127.0.0.1:$(PORT)
	./scripts/serve.sh

test: $(VENV)/.installed-dev browser
	$(PY) -m pytest $(PYTEST_ARGS)

# The test suite saves its screenshots under build/ (ignored); this refreshes the tracked ones.
screenshots: $(VENV)/.installed-dev browser
	SCREENSHOTS_DIR=docs/screenshots $(PY) -m pytest -p no:cacheprovider -m screenshots

$(PY):
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed; set PYTHON=python3.12 or similar")'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

$(VENV)/.installed: requirements.txt | $(PY)
	$(PY) -m pip install -q -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt | $(PY)
	$(PY) -m pip install -q -r requirements-dev.txt
	touch $@ $(VENV)/.installed

# The browser tests drive Debian's Chromium (Playwright's own download cannot work offline).
CHROMIUM ?= /usr/bin/chromium
browser:
	@if [ ! -x "$(CHROMIUM)" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && apt-get install -y -qq chromium >/dev/null; \
	  else \
	    echo "The browser tests need Chromium at $(CHROMIUM): apt-get install chromium, or set CHROMIUM=/path"; exit 1; \
	  fi; \
	fi
