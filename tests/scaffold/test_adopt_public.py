"""Public notebooks nobody here wrote (``tests/fixtures/adopt/<name>/``, each README says its
source, licence, model variable and target), adopted for real on a copy of their folder: each
is adopted with its parity, or refused in at most three lines that name her cell and line (or
the row and column for parity) and say what to do."""

from __future__ import annotations

import importlib.util
import math
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest

from nbprod.errors import ConfigError
from nbprod.scaffold.adoption import adopt

PUBLIC = Path(__file__).parents[1] / "fixtures" / "adopt"
WHERE = re.compile(r"cell \d+, line \d+")


def adopt_copy(tmp_path: Path, name: str, notebook: str, data: str, model: str, target: str):
    folder = tmp_path / name
    shutil.copytree(PUBLIC / name, folder)
    return adopt(folder / notebook, folder / data, model=model, target=target,
                 name=f"public_{name}")


def refusal(tmp_path: Path, *args: str) -> str:
    with pytest.raises(ConfigError) as caught:
        adopt_copy(tmp_path, *args)
    message = str(caught.value)
    assert 1 <= len(message.splitlines()) <= 3, message
    return message


XGB = ("xgb_dict_map", "Notebooks/Predicting_Customer_Churn_with_XGBoost_&_CatBoost.ipynb",
       "Data/WA_Fn-UseC_-Telco-Customer-Churn.csv", "xgb_model", "Churn")


def test_xgb_dict_map(tmp_path, monkeypatch):
    """Her fillna with the column's median is served with the median her notebook computed
    (kept in the fitted model), her drop_first dummies with every dummy for the aligner: her
    held-out rows answer as her model does, as a batch and one record alone."""
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    adoption = adopt_copy(tmp_path, *XGB)
    assert adoption.run.rows == 200 and adoption.run.parity == ""
    assert set(adoption.run.models) == {"xgb_model", "cat_model"}
    features = adoption.package["features.py"]
    assert ("df['TotalCharges'] = df['TotalCharges'].fillna("
            "stats[\"cell 5, line 6: df['TotalCharges'].median()\"])") in features
    assert "stats[\"cell 5, line 6: df['TotalCharges'].median()\"] = " \
           "df['TotalCharges'].median()" in features
    raw = pd.read_csv(PUBLIC / "xgb_dict_map" / XGB[2])
    median = pd.to_numeric(raw["TotalCharges"], errors="coerce").median()
    assert repr(median) not in features and str(median) not in features
    assert "drop_first=False" in features
    assert [note.split(":")[0] for note in adoption.notes] == ["cell 5, line 9"]  # the target


def test_own_transformers(tmp_path, monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "1")  # hundreds of tiny xgboost fits (see README)
    message = refusal(tmp_path, "own_transformers", "Chapter10/XGBoost_Model_Deployment.ipynb",
                      "Chapter10/student-por.csv", "full_pipeline", "G3")
    first = message.splitlines()[0]  # in a batch her encoder sees every category; alone not
    assert first.startswith("parity: one record alone: row "), message
    assert "cell 16, line 1: her SparseMatrix fits inside transform" in message, message
    assert "NameError" not in message
    assert "fit it in fit" in message  # what to do


def test_pumpkins(tmp_path):
    """Her X joins dummies of new_pumpkins, a frame she builds with pd.DataFrame({...}) from
    her raw columns and her computed target: served without the target, at parity."""
    adoption = adopt_copy(tmp_path, "pumpkins", "2-Regression/3-Linear/solution/notebook.ipynb",
                          "2-Regression/data/US-pumpkins.csv", "pipeline", "Price")
    assert adoption.target == "Price" and adoption.flow.model == "pipeline"
    assert adoption.flow.split.cell == 32  # the split before her last pipeline.fit
    raw = pd.read_csv(PUBLIC / "pumpkins" / "2-Regression" / "data" / "US-pumpkins.csv")
    bushels = int(raw["Package"].str.contains("bushel").sum())
    # every one of her held-out rows (test_size=0.2) answered as her model answers
    assert adoption.run.rows == math.ceil(0.2 * bushels)
    assert adoption.run.models["pipeline"].endswith("Pipeline")
    features = next(v for k, v in adoption.package.items() if k.endswith("features.py"))
    assert "return pd.get_dummies(new_pumpkins['Variety'])" in features
    assert "'Price'" not in features  # the target is training's
    assert any("str.contains('bushel" in note and "filters rows" in note
               for note in adoption.notes)


def test_pumpkins_project_declares_her_raw_records_and_her_computed_target(tmp_path):
    """Her target Price is computed from Low Price and High Price: the project's records are
    her raw columns without them, and her task hands her target to the rest of the build."""
    import json

    import yaml

    from nbprod.scaffold.adopted_project import create_adopted_project

    folder = tmp_path / "pumpkins"
    shutil.copytree(PUBLIC / "pumpkins", folder)
    made = create_adopted_project(tmp_path / "project",
                                  folder / "2-Regression/3-Linear/solution/notebook.ipynb",
                                  folder / "2-Regression/data/US-pumpkins.csv", "pipeline",
                                  "Price", wheel=False)
    assert made.adoption.run.sources == ["Low Price", "High Price"]
    spec = yaml.safe_load((made.created.path / "columns.yaml").read_text())
    assert spec["kind"] == "regression" and spec["target"] == "price"
    assert spec["columns"]["price"]["source"] == "Price"
    reason = "her notebook computes the target 'Price' from it (cell 3, line 6)"
    assert spec["dropped"]["Low Price"] == spec["dropped"]["High Price"] == reason
    headers = {c.get("source", n) for n, c in spec["columns"].items()}
    assert {"Variety", "City Name", "Package", "Date"} <= headers
    assert not headers & {"Low Price", "High Price"}
    # every raw row is a record to check, not only the bushel rows she trained on
    raw = pd.read_csv(folder / "2-Regression/data/US-pumpkins.csv")
    assert set(spec["columns"]["package"]["categories"]) == set(raw["Package"])
    last = made.tasks[-1]
    task = json.loads((made.created.path / f"notebooks/{last}.ipynb").read_text())
    code = "".join("".join(c["source"]) for c in task["cells"])
    assert "target=('Price', y_train, y_test)" in code
    ingest = (made.created.path / "notebooks/ingest.ipynb").read_text()
    assert "validate_records(raw," in ingest and "validate(raw," not in ingest


def test_forest_search(tmp_path):
    """Her GridSearchCV over a forest Pipeline (a ColumnTransformer after her derived columns)
    is served as she fitted it, at parity on her validation rows (see its README)."""
    adoption = adopt_copy(tmp_path, "forest_search", "telco_customer_churn_analysis.ipynb",
                          "WA_Fn-UseC_-Telco-Customer-Churn.csv", "rf_grid", "Churn")
    assert adoption.run.models["rf_grid"] == "sklearn.model_selection._search.GridSearchCV"
    assert (adoption.flow.X_train, adoption.flow.X_test) == ("X_train", "X_val")
    assert adoption.run.rows == 200  # 1,000 rows split 60/20/20: her 200 validation rows
    assert adoption.run.labels == {"No": "No", "Yes": "Yes"}  # she predicts the strings
    features = next(v for k, v in adoption.package.items() if k.endswith("features.py"))
    assert ".apply(tenure_group)" in features and ".apply(charges_group)" in features
    assert any("cell 8, line 4: filters or renumbers rows (.dropna)" in n for n in adoption.notes)


@pytest.mark.skipif(importlib.util.find_spec("tensorflow") is not None,
                    reason="tensorflow is here (see its README for that case)")
def test_keras_tabular_is_refused_in_two_lines_and_leaves_no_folder(tmp_path):
    import subprocess

    from projectkit import BIN

    folder = PUBLIC / "keras_tabular" / "tabular_data_notebooks" / "classification"
    dest = tmp_path / "project"
    result = subprocess.run([str(BIN / "nbprod"), "new", str(dest), "--notebook",
                             str(folder / "TabularData_implementation.ipynb"),
                             "--data", str(folder / "wheat-seeds.csv")],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 2, result.stderr
    assert lines[0] == ("error: cell 3, line 3: imports 'tensorflow', which is not installed "
                        "here, and nbprod new --notebook adopts scikit-learn-API models, not "
                        "TensorFlow ones")
    assert "export her model to ONNX in the notebook (tf2onnx.convert.from_keras)" in lines[1]
    assert not dest.exists()
