"""One smoke-trained project for the service tests, served two ways.

The project is a temporary copy (pipeline, notebooks, data, bentofile, src) whose smoke build
registers a model in a temporary BENTOML_HOME; its registration file is put where the
service looks for it (products/model/registration.json), as `make run` leaves it.

- ``app``: the service's ASGI app in this process (``Service.to_asgi()`` with Starlette's
  ``TestClient``, as BentoML's testing guide does): no server, no port, ``pytest --pdb``
  stops inside the service. The tier for what a request gets back (``tests/service/inprocess``).
- ``server``, ``bento`` and ``bentoml_serve``: a real `bentoml serve` on a free loopback
  port, for what only a served process shows: its log, its workers, its sockets, signals.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import warnings
from pathlib import Path

import pandas as pd
import pytest

from projectkit import (
    BIN,
    FEATURES,
    ROOT,
    SESSION_STORE,
    bentoml_serve,
    build_env,
    copy_project,
    forget_bentoml_request_metrics,
    ploomber_build,
)
from tables import CUSTOMER


class Project:
    def __init__(self, path: Path, home: Path) -> None:
        self.path = path
        self.home = home
        self.smoke = path / "products-smoke"
        self.tag = json.loads((path / "products/model/registration.json").read_text())["tag"]

    def env(self, **extra: str) -> dict[str, str]:
        env = build_env(self.home)
        env.pop("NBPROD_MODEL_TAG", None)
        env.update(extra)
        return env

    def test_rows(self) -> tuple[list[dict], list[float]]:
        """The held-out rows (features only) and the evaluate step's probabilities for them."""
        test = pd.read_parquet(self.smoke / "data/test.parquet")
        preds = pd.read_parquet(self.smoke / "model/test_predictions.parquet").set_index("row")
        rows = test[FEATURES].astype(object).to_dict("records")
        return rows, preds.loc[test.index, "probability"].tolist()


@pytest.fixture(scope="session")
def project(tmp_path_factory) -> Project:
    path = copy_project(tmp_path_factory.mktemp("serve-project"))
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info")
    shutil.copytree(ROOT / "src" / "churn", path / "src" / "churn", ignore=ignore)
    shutil.copy2(ROOT / "bentofile.yaml", path / "bentofile.yaml")
    home = path / "bentoml-home"
    result = ploomber_build(path, home)
    assert result.returncode == 0, result.stdout + result.stderr
    registration = path / "products/model/registration.json"
    registration.parent.mkdir(parents=True)
    shutil.copy2(path / "products-smoke/model/registration.json", registration)
    return Project(path, home)


@pytest.fixture(scope="session")
def customer(project) -> dict:
    """The example input every tier sends (``tables.CUSTOMER``; tests do not modify it)."""
    assert set(CUSTOMER) == set(FEATURES), "the example input has every field, no other"
    return dict(CUSTOMER)


@pytest.fixture(scope="module")
def app(project):
    """A client of ``nbprod.serving.service:ModelService`` run in this process on the project's model.

    The model is copied into this process's store (BentoML resolves its home once per
    process) and named by ``$NBPROD_MODEL_TAG``; the service module is imported once. The
    service patches BentoML when it starts (``nbprod.serving.predictor``): the patches are undone after
    the module, so the canaries of ``tests/unit/serving/test_serving.py`` still see BentoML's bugs."""
    from bentoml._internal.marshal.dispatcher import Optimizer
    from bentoml._internal.server.http.instruments import RunnerTrafficMetricsMiddleware
    from bentoml._internal.server.http.traffic import TimeoutMiddleware

    from nbprod.compat.bentoml import REQUEST_ERROR_LOGGER

    with warnings.catch_warnings():  # Starlette 1 moves its TestClient to httpx2; httpx works
        warnings.filterwarnings("ignore", "Using `httpx` with `starlette.testclient`")
        from starlette.testclient import TestClient

    name, _, version = project.tag.partition(":")
    stored = SESSION_STORE / "models" / name / version
    if not stored.exists():
        shutil.copytree(project.home / "models" / name / version, stored)
    errors = logging.getLogger(REQUEST_ERROR_LOGGER)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Optimizer, "trigger_refresh", Optimizer.trigger_refresh)
        patch.setattr(TimeoutMiddleware, "__call__", TimeoutMiddleware.__call__)
        patch.setattr(RunnerTrafficMetricsMiddleware, "__call__",
                      RunnerTrafficMetricsMiddleware.__call__)
        patch.setattr(errors, "filters", list(errors.filters))
        patch.setenv("NBPROD_MODEL_TAG", project.tag)
        patch.chdir(project.path)  # the service's name comes from the project's bentofile.yaml
        from nbprod.serving.service import ModelService

        forget_bentoml_request_metrics()  # another in-process app may have registered them
        with TestClient(ModelService.to_asgi(), raise_server_exceptions=False) as client:
            yield client


@pytest.fixture(scope="session")
def server(project):
    """The service served from the source, as in development (`bentoml serve` in the project)."""
    env = project.env()
    assert "NBPROD_MODEL_TAG" not in env and os.environ.get("NBPROD_MODEL_TAG") is None
    with bentoml_serve("nbprod.serving.service:ModelService", project.path, env) as client:
        yield client


def nbprod_bento(project_path: Path, env: dict, *args: str) -> subprocess.CompletedProcess:
    """The real `nbprod bento` on a project folder."""
    return subprocess.run([str(BIN / "nbprod"), "bento", "--project", str(project_path), *args],
                          cwd=project_path, env=env, capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="session")
def bento(project) -> str:
    """The project's bento, built by `nbprod bento` (the registered model frozen in)."""
    result = nbprod_bento(project.path, project.env())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "built bento churn:" in result.stderr
    return result.stdout.strip().splitlines()[-1]
