# The two commands a new user needs: `make run` and `make test`. Everything else is optional.
PYTHON ?= python3
VENV ?= .venv
BIN := $(abspath $(VENV))/bin
export PATH := $(BIN):$(PATH)
export BENTOML_DO_NOT_TRACK := true
export PLOOMBER_STATS_ENABLED := false
export PIP_DISABLE_PIP_VERSION_CHECK := 1
# The installer of the pinned lock file: uv (several times faster; BENCHMARKS.md), or pip
# with INSTALLER=pip. uv comes from PyPI at the version the lock file pins; when it cannot be
# installed, pip does the work. Both print what they are doing.
INSTALLER ?= uv
LOCK := requirements.lock.txt
comma := ,
pinned = $(shell grep -E '^$(1)==' $(LOCK))
PIP := $(BIN)/python -m pip install --progress-bar on
# $(call install,SPEC): the lock file's versions of SPEC, with uv if it is there, else pip.
# uv compiles the bytecode at install, as pip does: left to the first `ploomber build`, it
# made that build several times slower (BENCHMARKS.md "Install").
install = if [ "$(INSTALLER)" = uv ] && [ -x $(BIN)/uv ]; then \
	$(BIN)/uv pip install --compile-bytecode --python $(BIN)/python -c $(LOCK) $(1); \
	else $(PIP) -c $(LOCK) $(1); fi

.PHONY: help install dev run test plot status clean bench-scale bench-dask

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

# A new venv gets the pinned pip and setuptools at once (the ones Python bundles have
# known advisories), and uv unless INSTALLER=pip.
$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	@echo "upgrading pip and setuptools in $(VENV) to the pinned versions"
	$(PIP) --quiet $(call pinned,pip) $(call pinned,setuptools)

$(BIN)/uv: | $(BIN)/python
	@[ "$(INSTALLER)" != uv ] || $(PIP) --quiet $(call pinned,uv) \
		|| echo "uv could not be installed: pip installs the lock file instead"

# The toolkit with every extra, then the reference project's own package (src/churn).
$(VENV)/.installed: $(BIN)/python pyproject.toml src/churn/pyproject.toml $(LOCK) | $(BIN)/uv
	@echo "installing the project and its pinned dependencies ($(LOCK)) with $(INSTALLER)"
	@$(call install,-e '.[all]' -e src/churn)
	@touch $@

$(VENV)/.installed-dev: $(VENV)/.installed
	@echo "installing the test dependencies ($(LOCK)) with $(INSTALLER)"
	@$(call install,-e '.[dev$(comma)dask$(comma)models$(comma)onnx]')
	@touch $@

install: $(VENV)/.installed  ## create .venv and install the project with pinned dependencies

dev: $(VENV)/.installed-dev  ## install also what the tests need

run: install  ## train on the shipped data: ploomber build -> registered model
	ploomber build
	@$(MAKE) --no-print-directory bento
	@nbprod summary --products products

test: dev  ## the whole test suite (unit, notebooks, pipeline)
	pytest

# The engines tier (docs/scaling-out.md): Airflow 3 runs the exported DAG, kfp compiles the
# Kubeflow pipeline, Dask scores a data set. Each engine gets its own virtual environment
# in build/engines/ from its lock file (made on first use, reused after).
ENGINES := build/engines

$(ENGINES)/%/.installed: engines/%.lock.txt
	rm -rf $(ENGINES)/$*
	$(PYTHON) -m venv $(ENGINES)/$*
	$(ENGINES)/$*/bin/python -m pip install --quiet --no-deps --requirement $<
	@touch $@

# The models tier (docs/own-model.md): each supported model (scikit-learn's, XGBoost,
# LightGBM, CatBoost, a pipeline of the project's own package) trained by the pipeline,
# bundled by `nbprod bento` and served from its bento by `bentoml serve`.
.PHONY: test-models
test-models: dev  ## the models tier: every supported model trained, bundled, served
	pytest -m models tests/models

.PHONY: engines test-engines
engines: $(ENGINES)/airflow/.installed $(ENGINES)/kfp/.installed  ## the engines' own environments

test-engines: dev engines  ## the engines tier: Airflow runs the DAG, kfp compiles, Dask scores
	pytest -m engines tests/engines

# The adopted tier (docs/own-notebook.md): every public notebook of
# tests/scaffold/test_adopt_fresh_env.py adopted by `nbprod new --notebook`, then its own
# `make run`, `make test` and `make serve` on a fresh virtual environment (about ten minutes).
.PHONY: test-adopted
test-adopted: dev  ## the adopted tier: each public notebook's project on a fresh venv
	NBPROD_FRESH_ENV=1 pytest -m fresh_env tests/scaffold

plot: install  ## the DAG and each task's status, offline: products/pipeline.html
	nbprod plot --output products/pipeline.html

status: install  ## which tasks are up to date
	ploomber status

clean:  ## remove products (the model store is left alone)
	rm -rf products products-smoke

.PHONY: check lint types lab

check: install  ## the notebook contract on the pipeline's notebooks (nbprod check)
	nbprod check

lint: dev  ## ruff on src/, tests/, benchmarks/ and the notebooks
	ruff check src tests benchmarks notebooks

types: dev  ## mypy on the toolkit (src/nbprod; its configuration in pyproject.toml)
	mypy

test-fast: dev  ## the unit and check tiers: the edit-test loop (about a minute)
	pytest tests/unit tests/check -m 'not engines' --deselect tests/check/test_lab.py

# nbprod.pipeline.lab injects each pipeline notebook's upstream and product paths (of env.yaml, so
# after `make run`) when JupyterLab opens it, in memory only, and saves the source without
# them and without outputs: `nbprod check` and the lineage's git state stay clean.
# Ploomber's own Jupyter extension, which does the same, is off: it answers 500 beside
# jupytext (docs/lab.md). So is ploomber-extension's "Share Notebook" button, which deploys to
# Ploomber Cloud (jupyter/labconfig/default_setting_overrides.json).
lab: install  ## JupyterLab on 127.0.0.1 with a token; pipeline notebooks run as they are
	@test -d products || echo "note: run 'make run' first; the notebooks read the pipeline's products"
	JUPYTER_CONFIG_PATH=$(CURDIR)/jupyter$${JUPYTER_CONFIG_PATH:+:$$JUPYTER_CONFIG_PATH} \
	jupyter lab --ServerApp.ip=127.0.0.1 --ServerApp.open_browser=False --ServerApp.root_dir=. \
		--ServerApp.jpserver_extensions=ploomber=False --ServerApp.jpserver_extensions=ploomber_extension=False \
		--ServerApp.jpserver_extensions=nbprod.pipeline.lab=True \
		--ServerApp.jpserver_extensions=nbprod.pipeline.lab_panel=True \
		--LabApp.extra_labextensions_path=$(CURDIR)/labextension/prebuilt --ServerApp.allow_root=True

# The nbprod panel's front end (labextension/src, TypeScript), rebuilt into labextension/prebuilt/
# (committed; the wheel installs it where JupyterLab finds prebuilt extensions, so installing
# nbprod needs no Node). Needs Node and npm; the npm packages are package-lock.json's.
STAGING = $(shell $(BIN)/python -c 'import jupyterlab, os; print(os.path.join(os.path.dirname(jupyterlab.__file__), "staging"))' 2>/dev/null)
.PHONY: labextension
labextension: install  ## rebuild the JupyterLab panel's front end (Node and npm needed)
	cd labextension && npm ci --no-audit --no-fund && rm -rf lib prebuilt && npx tsc \
		&& node node_modules/@jupyterlab/builder/lib/build-labextension.js --core-path $(STAGING) .

bench-dask: dev  ## batch scoring of a data set: local vs a 2-worker Dask LocalCluster (minutes)
	python benchmarks/dask_scoring.py

bench-scale: install  ## the scale benchmark: pipeline at 100k/1M rows, batch scoring at 1M/10M (minutes)
	python benchmarks/scale.py

# Serving (README: "Serving the model"). HOST stays on loopback unless you say otherwise.
HOST ?= 127.0.0.1
PORT ?= 3000
BENTO_TAG_FILE := products/bento.txt

.PHONY: bento serve serve-dev bench-serve bench-fast

bento: install  ## select or build the bento of the production model -> products/bento.txt
	@nbprod bento > $(BENTO_TAG_FILE)
	@echo "bento             $$(cat $(BENTO_TAG_FILE))"

serve: bento  ## serve the production model's bento on http://$(HOST):$(PORT)
	bentoml serve $$(cat $(BENTO_TAG_FILE)) --host $(HOST) --port $(PORT)

serve-dev: install  ## serve the service from the source (reloads on change)
	bentoml serve nbprod.serving.service:ModelService --host $(HOST) --port $(PORT) --reload

bench-serve: install  ## load benchmark: the service vs mlflow models serve, a plain BentoML service, a bare app (needs wrk)
	@command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
	$(BIN)/python benchmarks/serve.py

bench-fast: install  ## the compiled fast path: /predict vs the artifact, MLflow, a bare app, a no-op endpoint; batch scoring vs scikit-learn
	@command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
	$(BIN)/python benchmarks/serve.py --endpoint predict --peers bare,mlflow,artifact,noop
	$(BIN)/python benchmarks/batch_scoring.py

# Reliability (README "Reliability"): the soak benchmark, the full fuzz run, overload.
.PHONY: soak fuzz bench-overload

bench-overload: install  ## admission by expected waiting time at 1x, 2x, 4x its bound (~2 min)
	$(BIN)/python benchmarks/overload.py

soak: install  ## 60 s at 64 clients, good and bad requests: no 5xx, memory growth < 10%
	python benchmarks/soak.py --seconds 60 --clients 64

fuzz: dev  ## the full fuzz run (~1,600 requests) of the guarded service
	NBPROD_FUZZ_EXAMPLES=200 pytest tests/service/hardening/test_fuzz.py

# Monitoring (README: "Monitoring"): the cost of the prediction log, drift and histogram.
.PHONY: bench-monitoring

bench-monitoring: install  ## serving benchmark with and without monitoring (needs wrk)
	@command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
	$(BIN)/python benchmarks/monitoring.py
	$(BIN)/python benchmarks/serve.py --monitoring --peers bare --clients 1,32,1
