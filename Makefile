# Carepath: the front door. `make demo` and `make test` set everything up from nothing.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
WORKSPACE ?= demo-workspace
PORT ?= 8000

.PHONY: help setup system-deps demo test test-fast bench lint docs docs-check clean

help:
	@echo "make demo   - synthetic Wessex county, compute, reports, web app on http://127.0.0.1:$(PORT)"
	@echo "make test   - set up from nothing and run the whole suite"
	@echo "make bench  - print benchmark figures and ratios against peers"
	@echo "make lint   - ruff"
	@echo "make docs   - regenerate docs made from code"

# Debian packages: Chromium for browser tests and PDFs, Pango for WeasyPrint (the PDF
# fallback), fonts, and a Java runtime for the Spark engine tests.
system-deps:
	@if [ ! -x /usr/bin/chromium ] || ! ldconfig -p | grep -q libharfbuzz-subset || ! command -v pdftoppm >/dev/null || ! command -v java >/dev/null; then \
	  echo "Installing Debian packages (chromium, pango, fonts, java)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	    chromium libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 poppler-utils fonts-dejavu-core default-jre-headless >/dev/null; \
	fi

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $(STAMP)

setup: system-deps $(STAMP)

demo: setup
	$(BIN)/carepath demo -w $(WORKSPACE) --port $(PORT)

test: setup
	$(BIN)/python -m pytest -q -p no:cacheprovider

test-fast: $(STAMP)
	$(BIN)/python -m pytest -q -x -m "not slow and not browser"

bench: setup
	$(BIN)/pip install -q -e '.[test,bench]'
	$(BIN)/python -m benchmarks

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks

docs: $(STAMP)
	$(BIN)/python -m carepath.docs_gen

clean:
	rm -rf $(VENV) $(WORKSPACE) build *.egg-info
