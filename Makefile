# The workbench's commands. A fresh clone needs only `make report` and `make test`:
# each builds the environment from uv.lock first (Python 3.11, package registries only).

SHELL := /bin/bash
PY_VERSION ?= 3.11
UV_VERSION ?= 0.13.8
VENV := .venv
STAMP := $(VENV)/.installed
UV := $(shell command -v uv 2>/dev/null || echo $(HOME)/.local/bin/uv)
RUN := $(UV) run --frozen --no-sync
KERNEL := analysis
MONTH ?= 2026-10

.PHONY: setup chromium report test test-fast lint format strip lab sample clean help

help:  ## list the commands
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(UV):
	@command -v uv >/dev/null 2>&1 || python3 -m pip install --quiet --user "uv==$(UV_VERSION)"

$(STAMP): pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --python $(PY_VERSION)
	$(VENV)/bin/python -m ipykernel install --sys-prefix --name $(KERNEL) \
		--display-name "Python (analysis workbench)" >/dev/null
	@# strip notebook outputs on `git add` (cell tags are kept); rendered copies live in reports/
	@if [ -d .git ]; then $(VENV)/bin/nbstripout --install --attributes .gitattributes; fi
	@touch $(STAMP)

chromium:  ## install Debian's chromium for the offline-report test, when missing
	@command -v chromium >/dev/null 2>&1 || { \
		echo "installing Debian's chromium (for the offline-report test)"; \
		apt-get update -qq && apt-get install -y -qq chromium >/dev/null; }

setup: $(STAMP)  ## build the environment from the lock file and register the Jupyter kernel

report: $(STAMP)  ## run the main job: the monthly report on the sample data
	$(RUN) analysis monthly --month $(MONTH) --data data/sample --out reports

test: $(STAMP) chromium  ## run the whole test suite (lint included)
	$(RUN) ruff check src tests benchmarks notebooks
	$(RUN) ruff format --check src tests benchmarks notebooks
	HYPOTHESIS_PROFILE=ci $(RUN) pytest --durations=15

lint: $(STAMP)  ## ruff on code and notebooks
	$(RUN) ruff check src tests benchmarks notebooks

format: $(STAMP)  ## format code and notebooks
	$(RUN) ruff format src tests benchmarks notebooks
	$(RUN) ruff check --fix src tests benchmarks notebooks

strip: $(STAMP)  ## strip outputs from notebooks under notebooks/ (cell tags are kept)
	$(RUN) nbstripout --keep-id notebooks/*.ipynb

lab: $(STAMP)  ## JupyterLab on the project's environment (kernel "analysis")
	$(RUN) jupyter lab --notebook-dir=notebooks

sample: $(STAMP)  ## regenerate data/sample with the default seed
	$(RUN) analysis sample-data --out data/sample

clean:  ## remove the environment and caches
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
