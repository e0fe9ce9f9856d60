"""One smoke-trained project for the service tests, and real `bentoml serve` processes on it.

The project is a temporary copy (pipeline, notebooks, data, bentofile, src) whose smoke build
registers a model in a temporary BENTOML_HOME; its registration file is put where the
service looks for it (products/model/registration.json), as `make run` leaves it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from contextlib import contextmanager
from pathlib import Path

import httpx
import pandas as pd
import pytest

from projectkit import BIN, FEATURES, ROOT, build_env, copy_project, free_port, ploomber_build, stop


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
    """One held-out customer (features only), as a client sends it (tests do not modify it)."""
    return project.test_rows()[0][0]


@contextmanager
def bentoml_serve(target: str, cwd: Path, env: dict[str, str], timeout: float = 120,
                  bentoml: Path | None = None):
    """`bentoml serve TARGET` on a free loopback port; yields a client once /readyz is 200."""
    port = free_port()
    log = cwd / f"serve-{port}.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [str(bentoml or BIN / "bentoml"), "serve", target, "--host", "127.0.0.1",
             "--port", str(port)],
            cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT,
        )
    client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30)
    try:
        deadline = time.monotonic() + timeout
        while True:
            assert proc.poll() is None, f"bentoml serve exited:\n{log.read_text()[-3000:]}"
            assert time.monotonic() < deadline, f"not ready:\n{log.read_text()[-3000:]}"
            try:
                if client.get("/readyz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.3)
        client.log = log  # type: ignore[attr-defined]
        client.proc = proc  # type: ignore[attr-defined]
        yield client
    finally:
        client.close()
        stop(proc)


@pytest.fixture(scope="session")
def server(project):
    """The service served from the source, as in development (`bentoml serve` in the project)."""
    env = project.env()
    assert "NBPROD_MODEL_TAG" not in env and os.environ.get("NBPROD_MODEL_TAG") is None
    with bentoml_serve("nbprod.service:ModelService", project.path, env) as client:
        yield client
