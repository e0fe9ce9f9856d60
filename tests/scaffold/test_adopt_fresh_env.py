"""Her notebook's project on a fresh virtual environment, as its README says:
`nbprod new --notebook` then `make run && make test` (its parity test included), and
`make serve` answers one of her held-out raw rows with her model's probability.

Slow (a fresh install from the package registry): run on its own,
    NBPROD_FRESH_ENV=1 pytest -m fresh_env tests/scaffold
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pandas as pd
import pytest
import yaml

from projectkit import BIN, answers, free_port, wait_until

pytestmark = [
    pytest.mark.fresh_env,
    pytest.mark.timeout(3600),
    pytest.mark.skipif(os.environ.get("NBPROD_FRESH_ENV") != "1",
                       reason="a fresh install: set NBPROD_FRESH_ENV=1 (see .ci/run)"),
]

HERE = Path(__file__).parent / "fixtures"
NOTEBOOK = HERE / "churn_notebook" / "churn.ipynb"
CSV = HERE / "ibm_telco" / "Telco-Customer-Churn-sample.csv"


def test_an_adopted_notebook_runs_tests_and_serves_on_a_fresh_venv(tmp_path):
    new = subprocess.run([str(BIN / "nbprod"), "new", str(tmp_path / "hers"), "--notebook",
                          str(NOTEBOOK), "--data", str(CSV), "--model", "rf"],
                         capture_output=True, text=True, timeout=600)
    assert new.returncode == 0, new.stderr
    project = tmp_path / "hers"
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    env["PATH"] = os.pathsep.join(p for p in env["PATH"].split(os.pathsep) if Path(p) != BIN)
    env["BENTOML_HOME"] = str(tmp_path / "bentoml-home")
    for target in ("run", "test"):
        result = subprocess.run(["make", target, f"PYTHON={sys.base_prefix}/bin/python3.11"],
                                cwd=project, env=env, capture_output=True, text=True,
                                timeout=3600)
        assert result.returncode == 0, f"make {target}:\n{result.stdout[-5000:]}"
    held = pd.read_parquet(project / "products/notebook/models/heldout.parquet")
    spec = yaml.safe_load((project / "columns.yaml").read_text())
    row = held.iloc[0]
    record = {name: (row[c.get("source", name)].item() if hasattr(row[c.get("source", name)],
                                                               "item")
                     else row[c.get("source", name)])
              for name, c in spec["columns"].items() if name != spec["target"]}
    kinds = {k: spec["columns"][k]["kind"] for k in record}
    record = {k: (float(v) if kinds[k] == "number" else int(float(v)) if kinds[k] == "integer" else v)
              for k, v in record.items()}
    port = free_port()
    make = subprocess.Popen(["make", "serve", "HOST=127.0.0.1", f"PORT={port}"], cwd=project,
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
                            start_new_session=True)
    try:
        client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30)
        wait_until(lambda: answers(client, "/readyz"), 180, "make serve never ready",
                   interval=0.3)
        resp = client.post("/predict", json={"record": record})
        assert resp.status_code == 200, resp.text
        assert resp.json()["probability"] == pytest.approx(row["__her_proba_1"], rel=1e-6)
    finally:
        os.killpg(make.pid, signal.SIGTERM)
        make.wait(timeout=60)
