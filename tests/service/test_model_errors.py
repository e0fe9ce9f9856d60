"""A model that fails on input that passed validation: a 4xx naming the problem, never a 500."""

from __future__ import annotations

import shutil
import subprocess
import textwrap
from pathlib import Path

import yaml

from projectkit import BIN, ROOT

from .conftest import bentoml_serve

REGISTER_BROKEN = textwrap.dedent(
    """
    import sys
    import numpy as np
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer
    from nbprod import get_model, register_model

    source = get_model(sys.argv[1]).info.metadata
    # inverts its input: fine on the square matrix it is fitted on, fails on any real row
    model = make_pipeline(FunctionTransformer(np.linalg.inv), LogisticRegression())
    model.fit(np.eye(2), [0, 1])
    keep = {k: source[k] for k in ("feature_schema", "metrics")}
    print(register_model("broken_churn", model, keep))
    """
)


def trusting(folder: Path, *types: str) -> Path:
    """``folder`` as a project whose trust file trusts ``types`` too (bentofile alike)."""
    folder.mkdir(exist_ok=True)
    shutil.copy2(ROOT / "bentofile.yaml", folder / "bentofile.yaml")
    trust = yaml.safe_load((ROOT / "trust.yaml").read_text())
    (folder / "trust.yaml").write_text(yaml.safe_dump({**trust, "types": list(types)}))
    return folder


def test_a_model_error_is_a_4xx_and_the_server_keeps_serving(project, customer, tmp_path):
    # the broken model holds a function skops does not trust by default: refused until the
    # project's trust file names it
    refused = subprocess.run([str(BIN / "python"), "-c", REGISTER_BROKEN, project.tag],
                             cwd=project.path, env=project.env(), capture_output=True,
                             text=True, timeout=120)
    assert refused.returncode != 0
    assert "outside the trusted list: numpy.linalg.inv" in refused.stderr
    assert "under `types:` in" in refused.stderr and "trust.yaml" in refused.stderr
    folder = trusting(tmp_path / "trusting", "numpy.linalg.inv")
    tag = subprocess.run(
        [str(BIN / "python"), "-c", REGISTER_BROKEN, project.tag], cwd=folder,
        env=project.env(), capture_output=True, text=True, check=True, timeout=120,
    ).stdout.strip().splitlines()[-1]
    with bentoml_serve("nbprod.serving.service:ModelService", folder,
                       project.env(NBPROD_MODEL_TAG=tag)) as client:
        one = client.post("/predict", json={"customer": customer})
        many = client.post("/predict_batch", json={"customers": [customer, customer]})
        assert client.get("/livez").status_code == 200
        again = client.post("/predict", json={"customer": customer})
    for resp in (one, many, again):
        assert resp.status_code == 400, resp.text
        assert "could not score the input" in resp.text and tag in resp.text
        assert "LinAlgError" in resp.text
