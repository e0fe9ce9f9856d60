"""Her task notebooks run where a Jupyter kernel ran her cells: `display` she never imported
is imported, and a task whose cells name files by literal paths silences `nbprod check`'s
rule against hard-coded paths (she keeps them as she wrote them)."""

import json

from nbprod.scaffold.notebook_source import Cell
from nbprod.scaffold.notebook_tasks import jupyter_imports, names_files, notebook_json


def test_display_is_imported_only_when_her_cells_use_it_without_importing_it():
    assert jupyter_imports([Cell(1, "display(df.head())")]) == \
        "from IPython.display import display"
    assert jupyter_imports([Cell(1, "from IPython.display import display"),
                            Cell(2, "display(df)")]) == ""
    assert jupyter_imports([Cell(1, "df.head()")]) == ""


def test_a_file_named_by_a_literal_path_silences_nb006_in_the_task_metadata():
    assert names_files("joblib.dump(model, 'best_churn_model.pkl')")
    assert not names_files("print('hello world')\nx = 'Yes'")
    nb = json.loads(notebook_json([{"kind": "code", "source": "x = 1"}], ("NB006",)))
    assert nb["metadata"]["nbprod"] == {"ignore": ["NB006"]}
    assert "nbprod" not in json.loads(notebook_json([{"kind": "code", "source": "x = 1"}]))[
        "metadata"]
