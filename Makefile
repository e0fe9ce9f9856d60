# The two commands a new user needs: `make run` and `make test`. Everything else is optional.
PYTHON ?= python3
VENV ?= .venv
BIN := $(abspath $(VENV))/bin
export PATH := $(BIN):$(PATH)
export BENTOML_DO_NOT_TRACK := true
export PLOOMBER_STATS_ENABLED := false
export PIP_DISABLE_PIP_VERSION_CHECK := 1
PIP_INSTALL := $(BIN)/python -m pip install --quiet -c requirements.lock.txt

.PHONY: help install dev run test plot status clean bench-scale

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: $(BIN)/python pyproject.toml requirements.lock.txt
	$(PIP_INSTALL) -e .
	@touch $@

$(VENV)/.installed-dev: $(VENV)/.installed
	$(PIP_INSTALL) -e '.[dev]'
	@touch $@

install: $(VENV)/.installed  ## create .venv and install the project with pinned dependencies

dev: $(VENV)/.installed-dev  ## install also what the tests need

run: install  ## train on the shipped data: ploomber build -> registered model
	ploomber build
	@nbprod summary --products products

test: dev  ## the whole test suite (unit, notebooks, pipeline)
	pytest

plot: install  ## the DAG as an HTML picture: products/pipeline.html
	ploomber plot --backend d3 --output products/pipeline.html

status: install  ## which tasks are up to date
	ploomber status

clean:  ## remove products (the model store is left alone)
	rm -rf products products-smoke

bench-scale: install  ## the scale benchmark: pipeline at 100k/1M rows, batch scoring at 1M/10M (minutes)
	python benchmarks/scale.py
