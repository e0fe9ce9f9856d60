"""Her notebook read and analysed without running it: magics out, the raw frame, the split,
the feature steps and the training-only statements with their cell and line."""

from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from nbprod.errors import ConfigError
from nbprod.scaffold.adoption import choose_model
from nbprod.scaffold.notebook_code import features_module
from nbprod.scaffold.notebook_flow import analyse
from nbprod.scaffold.notebook_source import read_notebook

FIXTURE = Path(__file__).parents[2] / "scaffold" / "fixtures" / "churn_notebook" / "churn.ipynb"
DATA = "Telco-Customer-Churn-sample.csv"


def write(tmp_path: Path, *sources: str) -> Path:
    nb = new_notebook(cells=[new_markdown_cell(s[3:]) if s.startswith("md:") else new_code_cell(s)
                             for s in sources])
    path = tmp_path / "nb.ipynb"
    nbformat.write(nb, str(path))
    return path


def test_magics_and_shell_lines_are_taken_out_and_lines_keep_their_numbers(tmp_path):
    path = write(tmp_path, "md:## Load", "%matplotlib inline\n!pip install x\nimport pandas as pd",
                 "%%time\nx = 1", "%%bash\nls")
    cells = read_notebook(path)
    assert [c.number for c in cells] == [2, 3, 4]
    assert cells[0].source.splitlines() == ["", "", "import pandas as pd"]
    assert cells[0].dropped == (1, 2)
    assert cells[0].heading == ("Load", 2)
    assert cells[1].source.strip() == "x = 1"
    assert cells[2].source == ""


def test_a_cell_that_is_not_python_is_named_with_its_line(tmp_path):
    path = write(tmp_path, "x = 1", "y = (\n")
    with pytest.raises(ConfigError, match=r"cell 2, line \d+: not Python"):
        read_notebook(path)


def test_the_churn_notebook_flow():
    cells = read_notebook(FIXTURE)
    flow = analyse(cells, DATA, "rf", "Churn")
    assert (flow.raw, flow.X, flow.X_train, flow.X_test, flow.frame) == (
        "df", "X", "X_train", "X_test", "df")
    assert {k: v.value for k, v in flow.split_literals.items()} == {
        "test_size": 0.25, "random_state": 42}
    assert [s.where for s in flow.steps] == ["cell 6, line 1"] + [
        f"cell 10, line {n}" for n in range(1, 6)]
    assert [(s.where, r.split(" (")[0]) for s, r in flow.training_only] == [
        ("cell 6, line 2", "filters or renumbers rows"), ("cell 6, line 3", "uses the target 'Churn'")]
    assert [s.node.name for s in flow.definitions] == ["tenure_band"]


def test_the_feature_function_is_her_statements_and_runs_on_one_record():
    import pandas as pd

    flow = analyse(read_notebook(FIXTURE), DATA, "rf", "Churn")
    text = features_module(flow, "churn.ipynb")
    assert "df['band'] = df['tenure'].apply(tenure_band)" in text
    assert "dropna" not in text and "'Churn'" not in text
    namespace: dict = {}
    exec("def tenure_band(months):\n    return 0 if months < 12 else 1\n", namespace)
    exec(text.replace("from .notebook import tenure_band", ""), namespace)
    one = pd.DataFrame([{"TotalCharges": " ", "gender": "Male", "Partner": "No", "tenure": 3,
                         "Contract": "One year", "InternetService": "DSL",
                         "PaymentMethod": "Mailed check"}])
    out = namespace["features"](one)
    assert out.loc[0, "gender"] == 0 and out.loc[0, "band"] == 0
    assert bool(out.loc[0, "Contract_One year"]) is True


def test_several_fitted_models_need_model(tmp_path):
    cells = read_notebook(FIXTURE)
    with pytest.raises(ConfigError, match=r"several models \(lr, rf\); name the one"):
        choose_model(cells, None)
    assert choose_model(cells, "rf") == "rf"


@pytest.mark.parametrize(("sources", "message"), [
    (("import pandas as pd", "df = pd.read_csv('other.csv')"), "reads no file named"),
    (("import pandas as pd", f"df = pd.read_csv('{DATA}')", "m.fit(df, df.y)"),
     "fitted on an expression for y"),
    (("import pandas as pd", f"df = pd.read_csv('{DATA}')", "X = df\ny = df.y\nm.fit(X, y)"),
     "no train_test_split"),
])
def test_notebooks_that_cannot_be_analysed_are_refused(tmp_path, sources, message):
    with pytest.raises(ConfigError, match=message):
        analyse(read_notebook(write(tmp_path, *sources)), DATA, "m", "y")


def test_step_tags_split_tasks_and_name_what_flows(tmp_path):
    from nbprod.scaffold.notebook_split import split

    nb = new_notebook(cells=[
        new_code_cell("import pandas as pd\ndf = pd.read_csv('x.csv')", metadata={"tags": ["step:load"]}),
        new_code_cell("df.head()", metadata={"tags": ["skip"]}),
        new_code_cell("df['a'] = df['a'] * 2\nn = 3", metadata={"tags": ["step:prepare"]}),
        new_code_cell("m = n + 1\nfit = df", metadata={"tags": ["step:train", "prev:load"]}),
    ])
    path = tmp_path / "t.ipynb"
    nbformat.write(nb, str(path))
    sections = split(read_notebook(path), ["m"])
    assert [(s.name, [c.number for c in s.cells]) for s in sections] == [
        ("load", [1]), ("prepare", [3]), ("train_nb", [4])]
    assert sections[1].inputs == {"df": "load"}
    assert sections[2].inputs == {"n": "prepare", "df": "prepare"}
    assert sections[2].upstream == ["load", "prepare"]
    assert sections[0].outputs == ["df"] and sorted(sections[1].outputs) == ["df", "n"]


def test_the_folders_her_cells_write_to_are_found(tmp_path):
    from nbprod.scaffold.adoption import output_folders

    path = write(tmp_path, "m.save_model('../models/m.json')\nx = 'a/b'\ny = 'https://h/x.csv'",
                 "df = pd.read_csv('data/x.csv')")
    assert output_folders(read_notebook(path), "data/x.csv") == ["../models"]


def test_a_model_fitted_on_every_row_is_checked_on_the_rows_her_split_held_out(tmp_path):
    path = write(tmp_path, "import pandas as pd", f"df = pd.read_csv('{DATA}')",
                 "X = df[['a']]\ny = df['y']\n"
                 "X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=2)\n"
                 "m.fit(X, y)")
    flow = analyse(read_notebook(path), DATA, "m", "y")
    assert (flow.X_train, flow.X_test, flow.fitted_on_all) == ("X", "X_test", True)


READ = f"import pandas as pd\ndf = pd.read_csv('{DATA}')"
FIT = ("from sklearn.model_selection import train_test_split\n"
       "X_train, X_test, y_train, y_test = train_test_split(X, y)\nm.fit(X_train, y_train)")


def test_her_last_read_of_the_file_restarts_the_features(tmp_path):
    cells = read_notebook(write(tmp_path, READ, "df = df.dropna()\nhot = df.x.map({1: 2})",
                                f"df = pd.read_csv('{DATA}', sep=';')", "X = df[['a']]\ny = df.t",
                                FIT))
    flow = analyse(cells, DATA, "m", "t")
    assert flow.read.where == "cell 3, line 1"
    assert flow.steps == [] and flow.training_only == []


def test_a_step_that_uses_a_left_out_name_is_left_out_too(tmp_path):
    cells = read_notebook(write(tmp_path, READ, "hot = df.rank()\ncold = hot.copy()\n"
                                "X = df[['a']]\ny = df.t", FIT))
    flow = analyse(cells, DATA, "m", "t")
    assert [(s.where, r) for s, r in flow.training_only] == [
        ("cell 2, line 1", "aggregates the whole frame (.rank)"),
        ("cell 2, line 2", "uses hot, left out at cell 2, line 1")]
    assert "cold" not in features_module(flow, "nb.ipynb")


def test_an_input_taken_from_a_left_out_frame_is_refused_with_why(tmp_path):
    path = write(tmp_path, READ, "new = df[df.a > 1]\nnew2 = new.copy()\n"
                 "X = new2[['a']]\ny = df.t", FIT)
    with pytest.raises(ConfigError, match=r"^cell 2, line 3: her model's input comes from new2, "
                                          r"which cell 2, line 2 makes for training only \(uses "
                                          r"new, left out at cell 2, line 1\)"):
        analyse(read_notebook(path), DATA, "m", "t")


def test_a_frame_built_from_her_columns_is_served_without_the_target(tmp_path):
    built = ("price = (df['lo'] + df['hi']) / 2\nmonth = pd.DatetimeIndex(df['Date']).month\n"
             "new = pd.DataFrame({'Month': month, 'City': df['City'], 't': price})\n"
             "X = pd.get_dummies(new['City']).join(new['Month'])\ny = new['t']")
    flow = analyse(read_notebook(write(tmp_path, READ, built, FIT)), DATA, "m", "t")
    assert [s.line for s in flow.steps] == [1, 2, 3]
    assert "'t'" not in flow.steps[2].source and "'City'" in flow.steps[2].source
    assert flow.x_value == "pd.get_dummies(new['City']).join(new['Month'])"
    assert features_module(flow, "nb.ipynb").rstrip().endswith(f"return {flow.x_value}")


def test_a_value_that_is_not_row_by_row_is_not_a_step(tmp_path):
    built = "top = df['lo'].rank().max() / 2\ndf['r'] = df['lo'] / top\nX = df[['r']]\ny = df.t"
    flow = analyse(read_notebook(write(tmp_path, READ, built, FIT)), DATA, "m", "t")
    assert flow.steps == [] and flow.x_value == ""
    assert [r for _, r in flow.training_only] == ["uses top, computed from the whole frame"]


def test_the_split_is_the_last_one_before_the_fit(tmp_path):
    cells = read_notebook(write(tmp_path, READ, "X = df[['a']]\ny = df.t\n" + FIT,
                                "X = df[['a', 'b']]\n" + FIT))
    assert analyse(cells, DATA, "m", "t").split.cell == 3


@pytest.mark.parametrize("mask", ["df['c'].str.contains('bushel')", "df.c.isin([1, 2])",
                                  "df['c'].notna()"])
def test_a_row_mask_made_by_a_method_is_a_filter(tmp_path, mask):
    cells = read_notebook(write(tmp_path, READ, f"df = df[{mask}]\nX = df[['a']]\ny = df.t", FIT))
    flow = analyse(cells, DATA, "m", "t")
    assert [(s.where, r) for s, r in flow.training_only] == [
        ("cell 2, line 1", "filters rows (a condition)")]
    assert flow.steps == []
