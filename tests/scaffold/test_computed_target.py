"""A target her own ``clean(df)`` computes (``nbprod new --target NAME --clean FILE``):
the columns it is made from are found and left out, her file becomes the project's cleaning
step, and the project builds (the pipeline, the gate's single-record trial through the
service's path) on scikit-learn's diabetes data, whose yearly progression is given here as
a low and a high bound, as a price often is."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pandas as pd
import pytest
import yaml
from sklearn.datasets import load_diabetes

from nbprod.errors import ConfigError
from nbprod.scaffold.derived import REASON, derive, load_clean
from projectkit import BIN, generated_build

pytestmark = pytest.mark.pipeline

GUARDED = '''import pandas as pd


def clean(df: pd.DataFrame) -> pd.DataFrame:
    """The progression is the middle of its two bounds (when the bounds are there)."""
    if {"Progression Low", "Progression High"} <= set(df.columns):
        df = df.assign(progression=(df["Progression Low"] + df["Progression High"]) / 2)
    return df
'''
UNGUARDED = '''def clean(df):
    return df.assign(progression=(df["Progression Low"] + df["Progression High"]) / 2)
'''


def patients() -> pd.DataFrame:
    data = load_diabetes(as_frame=True, scaled=False).frame
    spread = 5 + data["bmi"].round() % 7  # how wide the reported range is, per patient
    return data.drop(columns="target").rename(columns={"bmi": "BMI", "bp": "Blood Pressure"}) \
        .assign(**{"Progression Low": data["target"] - spread,
                   "Progression High": data["target"] + spread})


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text)
    return path


def test_the_columns_the_target_is_made_from_are_found(tmp_path):
    frame = patients()
    cleaned, sources = derive(frame, load_clean(write(tmp_path, "c.py", GUARDED)), "progression",
                              "c.py")
    assert sources == ["Progression Low", "Progression High"]
    assert "progression" in cleaned and not set(sources) & set(cleaned.columns)
    expected = (frame["Progression Low"] + frame["Progression High"]) / 2
    assert cleaned["progression"].equals(expected)


@pytest.mark.parametrize("text, target, message", [
    (UNGUARDED, "progression", "fails without the columns it computes 'progression' from "
                               "(KeyError"),
    (GUARDED, "severity", "--target 'severity' is neither a column of the data nor one that "
                          "clean() in c.py adds (it adds ['progression'])"),
    ("def clean(df):\n    return df.assign(progression=1.0)\n", "progression",
     "adds it without reading any column of the data"),
    ("def clean(df):\n    return None\n", "progression", "must return the cleaned DataFrame"),
    ("x = 1\n", "progression", "defines no function clean(df)"),
    ("import nothing_here\n", "progression", "importing it failed: ModuleNotFoundError"),
])
def test_a_clean_file_that_cannot_give_the_target_is_refused_in_one_line(tmp_path, text, target,
                                                                        message):
    with pytest.raises(ConfigError) as err:
        derive(patients(), load_clean(write(tmp_path, "c.py", text)), target, "c.py")
    assert message in str(err.value) and "\n" not in str(err.value)


def test_a_project_with_a_computed_target_builds_and_gates(tmp_path):
    data = tmp_path / "patients.csv"
    patients().to_csv(data, index=False)
    cleaning = write(tmp_path, "cleaning.py", GUARDED)
    new = subprocess.run([str(BIN / "nbprod"), "new", str(tmp_path / "clinic"), "--data", str(data),
                          "--target", "progression", "--clean", str(cleaning)],
                         capture_output=True, text=True, timeout=300)
    assert new.returncode == 0, new.stderr
    for source in ("Progression Low", "Progression High"):
        assert f"left out  {source}: {REASON}" in new.stdout
    project = tmp_path / "clinic"
    spec = yaml.safe_load((project / "columns.yaml").read_text())
    assert spec["kind"] == "regression" and spec["target"] == "progression"
    assert "progression" in spec["columns"] and "source" not in spec["columns"]["progression"]
    assert spec["dropped"]["Progression Low"] == REASON
    assert (project / "src/clinic/cleaning.py").read_text() == GUARDED
    generated_build(project, tmp_path / "bentoml-home")
    registration = json.loads((project / "products-smoke/model/registration.json").read_text())
    assert registration["promoted"], registration["reason"]
    schema = json.loads((project / "products-smoke/model/feature_schema.json").read_text())
    names = {f["name"] for f in schema["features"]}
    assert schema["target"] == "progression" and "bmi" in names
    assert not names & {"progression_low", "progression_high", "Progression Low"}
