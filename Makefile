# Two commands on a fresh machine with Python 3.11 and no conda:
#   make demo   creates .venv, installs gradient from pyproject.toml, runs `gradient demo`
#   make test   the same install, then the whole test suite (notebooks included)
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test install clean

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/gradient demo

# The browser tests drive Debian's chromium (never a downloaded one): install it if missing;
# axe-core (package.json, pinned in package-lock.json) checks the pages' accessibility.
test: $(STAMP)
	@if [ ! -x /usr/bin/chromium ]; then \
		echo "make test: installing chromium and chromium-driver for tests/test_browser.py"; \
		if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
		$$SUDO apt-get update && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y --no-install-recommends chromium chromium-driver fonts-liberation; \
	fi
	@if ! command -v npm >/dev/null; then \
		echo "make test: installing npm for axe-core (the accessibility checks)"; \
		if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
		$$SUDO apt-get update && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y --no-install-recommends npm; \
	fi
	npm ci --no-audit --no-fund --silent
	$(BIN)/python -m pytest -q -n auto

clean:
	rm -rf $(VENV) node_modules data/processed/demo data/processed/notebooks
