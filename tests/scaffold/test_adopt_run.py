"""Her notebook run once at adoption, for real (a subprocess with this interpreter): a cell
that fails or needs a missing library is refused naming the cell and the line, and the
served path (raw held-out rows -> her feature function -> her model) answers as her model."""

import shutil
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from nbprod.errors import ConfigError
from nbprod.scaffold.adoption import adopt

HERE = Path(__file__).parent / "fixtures"
NOTEBOOK = HERE / "churn_notebook" / "churn.ipynb"
CSV = HERE / "ibm_telco" / "Telco-Customer-Churn-sample.csv"
READ = f"import pandas as pd\ndf = pd.read_csv('data/{CSV.name}')"
SPLIT = ("from sklearn.model_selection import train_test_split\n"
         "from sklearn.tree import DecisionTreeClassifier\n"
         "X = df[['tenure', 'MonthlyCharges']]\ny = df['Churn']\n"
         "X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=1)\n"
         "m = DecisionTreeClassifier(max_depth=3).fit(X_train, y_train)")


def notebook(tmp_path: Path, *sources: str) -> Path:
    path = tmp_path / "hers.ipynb"
    nbformat.write(new_notebook(cells=[new_code_cell(s) for s in sources]), str(path))
    return path


def test_her_churn_notebook_is_adopted_with_parity(tmp_path):
    adoption = adopt(NOTEBOOK, CSV, model="rf", name="churn_adopt_a")
    assert adoption.target == "Churn"
    assert adoption.run.rows > 50  # her held-out rows, each answered as her model answers
    assert adoption.run.labels == {"No": 0, "Yes": 1}
    assert adoption.run.models["rf"].endswith("RandomForestClassifier")
    assert any("dropna" in note for note in adoption.notes)


def test_a_failing_cell_is_named_with_its_line_and_nothing_is_left(tmp_path):
    before = set(Path(__import__("tempfile").gettempdir()).glob("nbprod-adopt-*"))
    path = notebook(tmp_path, READ, "x = 1\ny = df['no such column']", SPLIT)
    with pytest.raises(ConfigError) as caught:
        adopt(path, CSV, name="churn_adopt_b")
    message = str(caught.value)
    assert message.startswith("cell 2, line 2: KeyError")
    assert len(message.splitlines()) <= 3
    assert set(Path(__import__("tempfile").gettempdir()).glob("nbprod-adopt-*")) == before


def test_a_missing_library_says_what_to_install(tmp_path):
    path = notebook(tmp_path, READ, "import surely_not_installed_lib", SPLIT)
    with pytest.raises(ConfigError, match=r"^cell 2, line 1: 'surely_not_installed_lib' is "
                                          r"not installed here; pip install it"):
        adopt(path, CSV, name="churn_adopt_c")


def test_feature_code_that_needs_the_whole_frame_breaks_parity_with_row_and_column(tmp_path):
    ranked = ("df['tenure'] = df['tenure'].rank()")  # training only: one record ranks 1
    path = notebook(tmp_path, READ, ranked, SPLIT)
    with pytest.raises(ConfigError) as caught:
        adopt(path, CSV, name="churn_adopt_d")
    message = str(caught.value)
    assert message.startswith("parity: held-out rows: row ")
    assert "her notebook's model says" in message
    assert "cell 2, line 1: aggregates the whole frame (.rank)" in message


def test_a_statistic_of_her_frame_is_computed_after_her_filters_and_served(tmp_path):
    """Her blank filled with the mean of the rows her dropna kept, her column scaled by its
    max: both frozen where her notebook computes them, so one record answers as her batch."""
    steps = ("df['TotalCharges'] = pd.to_numeric(df['TotalCharges'], errors='coerce')\n"
             "df = df[df['tenure'] > 3]\n"
             "df['TotalCharges'] = df['TotalCharges'].fillna(df['TotalCharges'].mean())\n"
             "df['tenure'] = df['tenure'] / df['tenure'].max()")
    split = SPLIT.replace("['tenure', 'MonthlyCharges']", "['tenure', 'TotalCharges']")
    adoption = adopt(notebook(tmp_path, READ, steps, split), CSV, name="churn_adopt_e")
    assert adoption.run.parity == "" and adoption.run.rows > 50
    assert adoption.notes == ["cell 2, line 2: filters rows (a condition): training only "
                              "(df = df[df['tenure'] > 3])"]
    assert "def statistics(df):" in adoption.package["features.py"]


def test_the_data_is_found_by_a_relative_path_with_parent_folders(tmp_path):
    data = tmp_path / "elsewhere" / "x.csv"
    data.parent.mkdir()
    shutil.copyfile(CSV, data)
    path = notebook(tmp_path, "import pandas as pd\ndf = pd.read_csv('../../Data/x.csv')", SPLIT)
    adoption = adopt(path, data, name="churn_adopt_e")
    assert adoption.data_path == "../../Data/x.csv" and adoption.flow.model == "m"


def test_the_command_refuses_in_three_lines_and_leaves_no_folder(tmp_path):
    import subprocess

    from projectkit import BIN

    path = notebook(tmp_path, READ, "x = 1\ny = df['no such column']", SPLIT)
    dest = tmp_path / "never"
    result = subprocess.run([str(BIN / "nbprod"), "new", str(dest), "--notebook", str(path),
                             "--data", str(CSV)], capture_output=True, text=True, timeout=300)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert 1 <= len(lines) <= 3, result.stderr
    assert "cell 2, line 2: KeyError" in lines[0]
    assert not dest.exists()
    assert not list(tmp_path.glob(".never.*"))
