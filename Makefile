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

.PHONY: run test lint browser nginx ldap lock screenshots bench

# For `make run` only: the built-in demo receiver (seed_demo) lives on this machine, so let
# deliveries reach 127.0.0.1. Anywhere else, leave it unset so deliveries only go to public addresses.
run: export WEBHOOK_ALLOWED_NETWORKS ?= 127.0.0.0/8
# ... and serve that built-in receiver, which is off unless enabled.
run: export DEMO_RECEIVER_ENABLED ?= true

run: $(VENV)/.installed
	$(PY) manage.py generate_credentials
	$(PY) manage.py migrate --noinput -v0
	$(PY) manage.py collectstatic --noinput -v0
	./scripts/serve.sh

test: $(VENV)/.installed-dev browser nginx ldap
	$(PY) -m pytest $(PYTEST_ARGS)

# Speed against the goals (README, "Benchmark"): builds its own data set of BENCH_ROWS log rows in
# build/bench.sqlite3, or in a database it creates and drops when DATABASE_URL names a PostgreSQL
# server; prints a table and writes benchmarks/results.json. Not part of `make test`.
BENCH_ROWS ?= 1000000
bench: $(VENV)/.installed
	$(PY) manage.py generate_credentials
	BENCH_ROWS=$(BENCH_ROWS) $(PY) benchmarks/bench.py

# ruff (lint and format) and mypy, configured in pyproject.toml; .ci/run runs this before the tests.
lint: $(VENV)/.installed-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy .

# The test suite saves its screenshots under build/ (ignored); this refreshes the tracked ones.
screenshots: $(VENV)/.installed-dev browser
	SCREENSHOTS_DIR=docs/screenshots $(PY) -m pytest -p no:cacheprovider -m screenshots

$(PY):
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed; set PYTHON=python3.12 or similar")'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

# Installs are pinned by constraints.txt, so every machine and CI get the versions tested.
$(VENV)/.installed: requirements.txt constraints.txt | $(PY)
	$(PY) -m pip install -q -r requirements.txt -c constraints.txt
	touch $@

# The tests and linters also install requirements-ldap.txt, whose python-ldap builds against
# Debian's LDAP headers (the `ldap` target below).
$(VENV)/.installed-dev: requirements.txt requirements-dev.txt requirements-ldap.txt constraints.txt | $(PY) ldap
	$(PY) -m pip install -q -r requirements-dev.txt -c constraints.txt
	touch $@ $(VENV)/.installed

# Refresh constraints.txt: the newest versions that requirements*.txt allow, resolved in a
# throwaway virtualenv. Run it after changing a requirements file, then run the tests.
lock:
	rm -rf build/lock-venv
	$(PYTHON) -m venv build/lock-venv
	build/lock-venv/bin/python -m pip install -q --upgrade pip
	build/lock-venv/bin/python -m pip install -q -r requirements-dev.txt
	( echo "# Exact versions installed by make and CI; refresh with \`make lock\`."; \
	  build/lock-venv/bin/python -m pip freeze --exclude-editable | grep -v '^pip==' ) > constraints.txt
	rm -rf build/lock-venv

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

# The deployment tests put Debian's nginx in front of the portal (tests/nginx.py); installed without
# starting its own service (policy-rc.d), which would take port 80.
nginx:
	@if ! command -v nginx >/dev/null && [ ! -x /usr/sbin/nginx ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light >/dev/null; \
	    status=$$?; rm -f /usr/sbin/policy-rc.d; exit $$status; \
	  else \
	    echo "The deployment tests need nginx: apt-get install nginx-light"; exit 1; \
	  fi; \
	fi

# LDAP sign-in's tests start their own OpenLDAP (slapd, with ldap-utils), and python-ldap builds
# against libldap2-dev and libsasl2-dev: Debian's packages, installed here when missing (as root).
LDAP_PACKAGES := slapd ldap-utils libldap2-dev libsasl2-dev
ldap:
	@if ! dpkg -s $(LDAP_PACKAGES) >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(LDAP_PACKAGES) >/dev/null; \
	  else \
	    echo "The LDAP tests and python-ldap need Debian's $(LDAP_PACKAGES): apt-get install $(LDAP_PACKAGES)"; exit 1; \
	  fi; \
	fi
