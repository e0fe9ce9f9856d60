"""The project of an adopted notebook, as written (no build): her cells with her literals
made parameters, env.yaml holding their values, her imports pinned, her code in her
package, and the notebook contract check clean on every task."""

import json
import subprocess
from pathlib import Path

import pytest
import yaml

from nbprod.scaffold.adopted_project import create_adopted_project
from projectkit import BIN

HERE = Path(__file__).parent / "fixtures"
NOTEBOOK = HERE / "churn_notebook" / "churn.ipynb"
CSV = HERE / "ibm_telco" / "Telco-Customer-Churn-sample.csv"


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    dest = tmp_path_factory.mktemp("adopted") / "churn_written"
    create_adopted_project(dest, NOTEBOOK, CSV, model="rf", wheel=False)
    return dest


def cells(path: Path) -> list[str]:
    return ["".join(c["source"]) for c in json.loads(path.read_text())["cells"]]


def test_her_literals_are_parameters_of_env_yaml(project):
    env = yaml.safe_load((project / "env.yaml").read_text())
    assert {k: env[k] for k in ("test_size", "seed", "rf_n_estimators", "rf_max_depth")} == {
        "test_size": 0.25, "seed": 42, "rf_n_estimators": 30, "rf_max_depth": 5}
    assert "estimator" not in env and "hyperparameters" not in env
    spec = yaml.safe_load((project / "pipeline.yaml").read_text())
    tasks = {t["name"]: t for t in spec["tasks"]}
    assert tasks["models"]["params"]["rf_n_estimators"] == "{{rf_n_estimators}}"
    assert tasks["churn_analysis"]["params"]["data_file"] == "{{raw_data}}"
    assert list(tasks) == ["ingest", "churn_analysis", "cleaning", "features_nb", "models",
                           "train", "evaluate", "register", "score"]


def test_her_headings_split_her_cells_into_tasks_passing_values_as_safe_files(project):
    spec = yaml.safe_load((project / "pipeline.yaml").read_text())
    tasks = {t["name"]: t for t in spec["tasks"]}
    assert tasks["features_nb"]["product"]["value_X_train"].endswith("/X_train.parquet")
    assert tasks["features_nb"]["product"]["value_y_test"].endswith("/y_test.series.parquet")
    assert tasks["cleaning"]["product"]["value_df"].endswith("/df.parquet")
    models = "\n".join(cells(project / "notebooks" / "models.ipynb"))
    assert "upstream = ['features_nb']" in models
    assert "X_train = load_value(upstream['features_nb']['value_X_train'])" in models
    features = "\n".join(cells(project / "notebooks" / "features_nb.ipynb"))
    assert "from churn_written.notebook import tenure_band" in features
    assert "def tenure_band" not in features


def test_her_cells_are_kept_with_only_the_literals_replaced(project):
    source = [c for t in ("churn_analysis", "cleaning", "features_nb", "models")
              for c in cells(project / "notebooks" / f"{t}.ipynb")]
    assert "rf = RandomForestClassifier(n_estimators=rf_n_estimators, max_depth=rf_max_depth, " \
           "random_state=rf_random_state)" in "\n".join(source)
    assert any("df = pd.read_csv(data_file)" in s for s in source)
    assert any("df['Churn'].value_counts().plot(kind='bar')" in s for s in source)
    assert not any("!pip" in s for s in source)


def test_her_imports_are_pinned_and_her_code_is_in_her_package(project):
    from importlib.metadata import version

    text = (project / "pyproject.toml").read_text()
    assert f'"scikit-learn=={version("scikit-learn")}"' in text
    assert f'"matplotlib=={version("matplotlib")}"' in text
    assert "def tenure_band(months):" in (project / "src/churn_written/notebook.py").read_text()
    assert "def features(df):" in (project / "src/churn_written/features.py").read_text()


def test_the_generated_tests_check_parity_on_her_last_task(project):
    text = (project / "tests" / "test_parity.py").read_text()
    assert "HELDOUT = 'products-smoke/notebook/models/heldout.parquet'" in text
    assert "check_parity(model, held" in text


def test_her_notebook_is_kept_as_she_gave_it_for_the_lineage(project):
    assert (project / "original" / "churn.ipynb").read_bytes() == NOTEBOOK.read_bytes()
    spec = yaml.safe_load((project / "pipeline.yaml").read_text())
    register = next(t for t in spec["tasks"] if t["name"] == "register")
    assert register["params"]["resources_"]["notebook"] == "{{here}}/original/churn.ipynb"
    assert '"original"' in (project / "tests" / "conftest.py").read_text()


def test_nbprod_check_is_clean_on_every_task(project):
    result = subprocess.run([str(BIN / "nbprod"), "check"], cwd=project, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
