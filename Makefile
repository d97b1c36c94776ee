# SPEX for QGIS: `make setup` once (Debian 12 or 13), then `make test`, `make demo`, `make bench`.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
PYTEST_ARGS ?=

.PHONY: help setup data demo test lint bench clean distclean

help:
	@echo "make setup     Debian packages, .venv, Python packages and sample data (idempotent)"
	@echo "make data      fetch and build the sample data in .cache/data"
	@echo "make demo      run spex on the Sentinel-2 sample and show the explanation"
	@echo "make test      run the test suite (PYTEST_ARGS='-k name' to select)"
	@echo "make lint      ruff check and ruff format --check"
	@echo "make bench     run the benchmarks"
	@echo "make clean     remove caches and build files (keeps .venv and .cache)"
	@echo "make distclean also remove .venv and .cache"

setup:
	@bash scripts/setup.sh

data:
	@if [ ! -x $(PY) ]; then echo "run 'make setup' first"; exit 1; fi
	@$(PY) scripts/sample_data.py

demo: setup
	@bash scripts/demo.sh

# pytest exits 5 when it collected no tests: that is a failure here, never a pass.
# pytest-qgis starts QGIS before conftest.py is read, so the offscreen platform is set here too.
test: setup
	@QT_QPA_PLATFORM=offscreen $(PY) -m pytest $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "make test: pytest collected no tests" >&2; fi; \
	exit $$rc

lint:
	@if [ ! -x $(VENV)/bin/ruff ]; then echo "run 'make setup' first"; exit 1; fi
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

bench: setup
	@$(PY) bench/run_benchmarks.py

clean:
	rm -rf build dist *.egg-info .pytest_cache .ruff_cache
	find . -path ./.venv -prune -o -name __pycache__ -type d -print0 | xargs -0 rm -rf

distclean: clean
	rm -rf $(VENV) .cache

# --- the QGIS plugin: headless Processing run, installable zip, screenshot of the desktop -------
.PHONY: qgis-run package screenshot

# ARGS='INPUT=scene.tif PROMPT="extract the water bodies" OUTPUT_MASK=mask.tif OUTPUT_FEATURES=regions.gpkg'
qgis-run: setup
	@bash scripts/qgis_run.sh

package:
	@python3 scripts/package.py

SHOT ?= docs/screenshot.png
screenshot: setup
	@bash scripts/screenshot.sh "$(SHOT)"
