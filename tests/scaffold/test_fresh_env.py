"""A generated project's own two commands on a fresh virtual environment, as its README
says: `make run && make test`, then `make serve` (HOST/PORT) answers a row of the data.

Slow (a fresh install from the package registry): run on its own, as `.ci/run` does,
    NBPROD_FRESH_ENV=1 pytest -m fresh_env tests/scaffold
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
import yaml
from datasets import DATASETS

from projectkit import BIN, answers, free_port, wait_until

pytestmark = [
    pytest.mark.fresh_env,
    pytest.mark.timeout(3600),  # a fresh install from the registry takes many minutes
    pytest.mark.skipif(os.environ.get("NBPROD_FRESH_ENV") != "1",
                       reason="a fresh install: set NBPROD_FRESH_ENV=1 (see .ci/run)"),
]


def clean_env(home: Path) -> dict[str, str]:
    """The environment of a user's shell: no virtual environment of ours on PATH."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("VIRTUAL_ENV", "PYTHONPATH", "NBPROD_MODEL_TAG")}
    env["PATH"] = os.pathsep.join(p for p in env["PATH"].split(os.pathsep)
                                  if Path(p) != BIN)
    env["BENTOML_HOME"] = str(home)
    return env


def test_make_run_make_test_make_serve_on_a_fresh_venv(tmp_path):
    ds = DATASETS["credit"]
    data = ds.write(tmp_path)
    new = subprocess.run([str(BIN / "nbprod"), "new", str(tmp_path / "credit"), "--data",
                          str(data), "--target", ds.target], capture_output=True, text=True,
                         timeout=300)
    assert new.returncode == 0, new.stderr
    project = tmp_path / "credit"
    env = clean_env(tmp_path / "bentoml-home")
    python = f"PYTHON={sys.base_prefix}/bin/python3.11"
    for target in ("run", "test"):
        result = subprocess.run(["make", target, python], cwd=project, env=env,
                                capture_output=True, text=True, timeout=3600)
        assert result.returncode == 0, f"make {target}:\n{result.stdout[-5000:]}\n" \
            f"{result.stderr[-5000:]}"
    assert (project / ".venv/bin/nbprod").is_file()

    port = free_port()
    make = subprocess.Popen(["make", "serve", "HOST=127.0.0.1", f"PORT={port}"], cwd=project,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    try:
        client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30)
        def ready() -> bool:
            assert make.poll() is None, make.stdout.read()
            return answers(client, "/readyz")

        wait_until(ready, 180, "make serve: /readyz never answered 200", interval=0.3)
        spec = yaml.safe_load((project / "columns.yaml").read_text())
        features = [c for c in spec["columns"] if c != spec["target"]]
        raw = ds.frame[[spec["columns"][c].get("source", c) for c in features]].dropna()
        raw = raw.astype(object).iloc[0]
        row = {c: (v.item() if hasattr(v, "item") else v)
               for c, v in zip(features, raw.tolist(), strict=True)}
        resp = client.post("/predict", json={"record": row})
        assert resp.status_code == 200, resp.text
        assert 0 <= resp.json()["probability"] <= 1
    finally:
        # the whole group: make, its shell, `bentoml serve` and its worker (a child's child
        # left out would outlive the test), by SIGTERM first, then SIGKILL what is left
        os.killpg(make.pid, signal.SIGTERM)
        try:
            make.wait(timeout=30)
        except subprocess.TimeoutExpired:
            pass
        with contextlib.suppress(ProcessLookupError):
            os.killpg(make.pid, signal.SIGKILL)
        make.wait()
