"""A public notebook whose scikit-learn Pipeline holds the author's own transformer class,
adopted for real on a copy of its folder (``tests/fixtures/adopt/titanic_pipeline``; its
README gives the source, the licence and the one edit): at parity on her held-out rows, as
one batch and one record alone, with the raw column her class reads declared for the
service and the library types her model holds listed in the trust file."""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import pandas as pd
import yaml

from nbprod.model.trust import read_trust
from nbprod.scaffold.adopted_project import create_adopted_project
from nbprod.scaffold.adoption import adopt

FIXTURE = Path(__file__).parents[1] / "fixtures" / "adopt" / "titanic_pipeline"
FOLDER = "section-04-research-and-development/titanic-assignment"
NOTEBOOK = f"{FOLDER}/04-titanic-survival-pipeline-solution.ipynb"
DATA = f"{FOLDER}/titanic-openml.csv"


def _copy(tmp_path: Path) -> Path:
    folder = tmp_path / "titanic_pipeline"
    shutil.copytree(FIXTURE, folder)
    return folder


def test_titanic_pipeline_is_adopted_at_parity(tmp_path):
    """Her X is an expression in her split (data.drop('survived', axis=1)): the frame her
    steps build is what features(df) returns."""
    folder = _copy(tmp_path)
    adoption = adopt(folder / NOTEBOOK, folder / DATA, model="titanic_pipe", target="survived",
                     name="public_titanic")
    assert adoption.run.parity == ""
    assert adoption.flow.frame == "data" and adoption.flow.X_test == "X_test"
    raw = pd.read_csv(folder / DATA)
    assert adoption.run.rows == math.ceil(0.2 * len(raw))
    assert adoption.run.models["titanic_pipe"] == "sklearn.pipeline.Pipeline"
    features = next(v for k, v in adoption.package.items() if k.endswith("features.py"))
    assert "data['title'] = data['name'].apply(get_title)" in features
    assert features.rstrip().endswith("return data")
    notebook = next(v for k, v in adoption.package.items() if k.endswith("notebook.py"))
    assert "class ExtractLetterTransformer(BaseEstimator, TransformerMixin):" in notebook
    # the raw columns her served path reads: cabin through her class, name through get_title
    assert {"cabin", "name", "sex", "age", "fare"} <= set(adoption.run.reads or [])
    assert not {"ticket", "body", "home.dest"} & set(adoption.run.reads or [])


def test_titanic_pipeline_project_declares_what_her_model_reads(tmp_path):
    folder = _copy(tmp_path)
    dest = tmp_path / "project"
    adopted = create_adopted_project(dest, folder / NOTEBOOK, folder / DATA, "titanic_pipe",
                                     "survived", wheel=False)
    spec = yaml.safe_load((dest / "columns.yaml").read_text())
    assert spec["columns"]["cabin"] == {"kind": "text", "max_length": 100}
    assert list(spec["columns"]).index("cabin") < list(spec["columns"]).index("embarked")
    assert set(spec["dropped"]) == {"ticket", "body", "home.dest"}
    assert any(n.startswith("cabin: her model reads it, declared as text (nbprod new --data "
                            "would leave it out: too many categories")
               for n in adopted.adoption.notes)
    trust = read_trust(dest / "trust.yaml")
    assert set(trust.types) == {
        "feature_engine.encoding.one_hot.OneHotEncoder",
        "feature_engine.encoding.rare_label.RareLabelEncoder",
        "feature_engine.imputation.categorical.CategoricalImputer",
        "feature_engine.imputation.mean_median.MeanMedianImputer",
        "feature_engine.imputation.missing_indicator.AddMissingIndicator"}
    assert trust.packages == (adopted.created.name,)
    pins = (dest / "pyproject.toml").read_text()
    assert '"feature_engine==' in pins
