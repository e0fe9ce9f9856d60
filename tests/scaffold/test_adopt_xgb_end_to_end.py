"""A public XGBoost notebook nobody here wrote (``tests/fixtures/adopt/xgb_dict_map``)
adopted end to end: `nbprod new --notebook` -> `ploomber build` (the smoke env) -> `nbprod
bento` -> a real `bentoml serve` -> her held-out raw rows POSTed as records answer what her
model says when her original notebook is executed (nbclient). Her feature code fills blank
``TotalCharges`` with the column's median: the served model keeps the median her notebook
computed, so the three rows that were blank answer as in her notebook too.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import nbformat
import pandas as pd
import pytest
from nbclient import NotebookClient
from nbformat.v4 import new_code_cell

from adoptkit import build_adopted, served_as_hers
from projectkit import BIN, build_env

pytestmark = pytest.mark.pipeline

PUBLIC = Path(__file__).parents[1] / "fixtures" / "adopt" / "xgb_dict_map"
NOTEBOOK = "Notebooks/Predicting_Customer_Churn_with_XGBoost_&_CatBoost.ipynb"
CSV = "Data/WA_Fn-UseC_-Telco-Customer-Churn.csv"
#: appended to a copy of her notebook: what her model says about her held-out rows
DUMP = ("import json\nprint(json.dumps(dict(zip(map(int, X_test.index), "
        "xgb_model.predict_proba(X_test)[:, 1].tolist()))))")
#: xgboost and catboost fit in her tasks and in her notebook: one thread each on shared cores
QUIET = {"OMP_NUM_THREADS": "1"}


def her_answers(folder: Path) -> dict[int, float]:
    """Her original notebook executed as it is, in a copy of her folder (plus one cell
    printing her model's answers)."""
    shutil.copytree(PUBLIC, folder)
    nb = nbformat.read(str(folder / NOTEBOOK), as_version=4)
    nb.cells.append(new_code_cell(DUMP))
    with pytest.MonkeyPatch.context() as patch:
        for key, value in QUIET.items():
            patch.setenv(key, value)
        NotebookClient(nb, timeout=600, resources={"metadata": {
            "path": str((folder / NOTEBOOK).parent)}}).execute()
    text = "".join(o.get("text", "") for o in nb.cells[-1].outputs)
    return {int(k): v for k, v in json.loads(text).items()}


@pytest.fixture(scope="module")
def adopted(tmp_path_factory):
    folder = tmp_path_factory.mktemp("adopt-xgb")
    hers = folder / "hers"
    shutil.copytree(PUBLIC, hers)
    env0 = {**build_env(folder / "bentoml-home"), **QUIET}
    result = subprocess.run(
        [str(BIN / "nbprod"), "new", str(folder / "churn_xgb"), "--notebook",
         str(hers / NOTEBOOK), "--data", str(hers / CSV), "--model", "xgb_model",
         "--target", "Churn"], capture_output=True, text=True, timeout=600, env=env0)
    assert result.returncode == 0, result.stderr[-3000:]
    path = folder / "churn_xgb"
    env = {**env0, "PYTHONPATH": str(path / "src")}
    build_adopted(path, env)
    return path, env, result.stdout


def test_the_command_says_her_median_is_served_and_only_her_target_is_left_out(adopted):
    path, _, out = adopted
    assert "parity    the served path answers her 200 held-out rows" in out
    left = [line for line in out.splitlines() if ": training only (" in line]
    assert len(left) == 1 and "uses the target 'Churn'" in left[0], out
    features = (path / "src/churn_xgb/features.py").read_text()
    assert "def statistics(df):" in features and "def features(df, stats):" in features


def test_her_outputs_stay_in_her_folders_and_out_of_git(adopted):
    path, _, _ = adopted
    assert (path / "models/xgb_model.json").is_file()  # her cells wrote where they write
    assert (path / "Data/processed_churn.csv").is_file()
    assert not (path.parent / "models").exists() and not (path / "catboost_info").exists()
    status = subprocess.run(["git", "status", "--porcelain", "--untracked-files=all"],
                            cwd=path, capture_output=True, text=True, check=True).stdout
    assert [line for line in status.splitlines()
            if not line[3:].startswith(("products", "src/churn_xgb.egg-info"))] == [], status


def test_served_raw_records_answer_as_her_executed_notebook(adopted, tmp_path):
    path, env, _ = adopted
    expected = her_answers(tmp_path / "hers")
    served_as_hers(path, env, PUBLIC / CSV, expected)
    raw = pd.read_csv(PUBLIC / CSV)
    blank = raw.index[pd.to_numeric(raw["TotalCharges"], errors="coerce").isna()]
    assert len(expected) == 200 and set(blank) & set(expected)  # a blank one among them
