"""Spec shapes no installed package ships, as small projects of our own (fixtures/shapes):
function, shell and SQL tasks as upstreams, percent-format .py tasks, a grid, an .ipynb
depending on a grid by wildcard, ``extract_upstream: False``, a factory ``location:``.
Each is checked clean, then with planted faults; `nbprod check` and the build hook
report the same lines."""

from __future__ import annotations

from pathlib import Path

import pytest
from hookkit import check_lines, copied, hook_lines

from nbprod.check import load_pipeline

SHAPES = Path(__file__).parent / "fixtures" / "shapes"


@pytest.fixture(params=sorted(p.name for p in SHAPES.iterdir() if p.is_dir()))
def shape(request, tmp_path) -> Path:
    return copied(SHAPES / request.param, tmp_path / request.param)


def test_each_shape_is_clean_for_the_check_and_the_hook(shape):
    assert check_lines(shape) == []
    assert hook_lines(shape) == []


def test_every_task_kind_is_a_task(tmp_path):
    pipeline = load_pipeline(copied(SHAPES / "mixed_kinds", tmp_path / "p") / "pipeline.yaml")
    kinds = {name: task.kind for name, task in pipeline.tasks.items()}
    assert kinds == {"get": "function", "shell": "shell", "summary": "sql", "fit": "notebook",
                     "train-6": "notebook", "train-12": "notebook", "report": "notebook"}
    assert pipeline.tasks["train-12"].params == {"test": False, "width": 12}
    assert [p.name for p in pipeline.notebooks] == ["fit.py", "report.ipynb", "train.py"]


def plant(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, 1))


def test_planted_faults_in_percent_py_tasks_are_found_at_their_file_lines(tmp_path):
    project = copied(SHAPES / "mixed_kinds", tmp_path / "p")
    fit = project / "scripts" / "fit.py"
    plant(fit, 'Path(product["model"])', 'Path(product["modell"])')
    plant(fit, "import pandas as pd\n", 'import pandas as pd\nKEY = "/home/ana/raw.csv"\n')
    plant(fit, "copied = ", "# !pip install lightgbm\nprint(undefined)\ncopied = ")
    expected = [
        "scripts/fit.py:8 NB006 absolute path '/home/ana/raw.csv'",
        "scripts/fit.py:17 NB008 package install in a notebook: '!pip install lightgbm'",
        "scripts/fit.py:18 NB009 'undefined' is not defined in any cell",
        "scripts/fit.py:22 NB004 product['modell'] is read, but the pipeline declares no such "
        "product (it has: model, nb)",
    ]
    assert check_lines(project) == expected
    assert hook_lines(project) == expected
    assert fit.read_text().splitlines()[21].startswith('Path(product["modell"])')


def test_a_grid_parameter_of_the_wrong_type_is_found_by_both(tmp_path):
    project = copied(SHAPES / "mixed_kinds", tmp_path / "p")
    plant(project / "pipeline.yaml", "width: [6, 12]", "width: [6, wide]")
    expected = ["scripts/train.py:7 NB003 task 'train-wide': pipeline.yaml passes parameter "
                "'width' = 'wide', a str, but its default 1 is int"]
    assert check_lines(project) == expected
    assert hook_lines(project) == expected


def test_an_undeclared_grid_parameter_is_one_finding_for_all_its_tasks(tmp_path):
    project = copied(SHAPES / "mixed_kinds", tmp_path / "p")
    plant(project / "scripts" / "train.py", "test = True\n", "")
    plant(project / "scripts" / "train.py", '"test": test, ', "")
    expected = ["scripts/train.py:5 NB003 2 tasks ('train-6', 'train-12'): pipeline.yaml passes "
                "parameter 'test', which the parameters cell does not declare"]
    assert check_lines(project) == expected
    assert hook_lines(project) == expected


def test_upstream_naming_no_task_lists_every_kind_in_the_hint(tmp_path):
    project = copied(SHAPES / "mixed_kinds", tmp_path / "p")
    plant(project / "scripts" / "fit.py", '"summary"]', '"sumary"]')
    from nbprod.check import check

    (finding,) = check(root=project)
    assert (finding.rule, finding.file_line) == ("NB004", 10)
    assert finding.message == "upstream 'sumary' is not a task of pipeline.yaml"
    assert finding.hint == ("the tasks are: fit, get, report, shell, summary, train-12, train-6")


def test_extract_upstream_false_reads_dependencies_from_the_spec(tmp_path):
    project = copied(SHAPES / "no_extract", tmp_path / "p")
    plant(project / "clean.py", 'upstream["load"]["data"]', 'upstream["load"]["dataset"]')
    expected = ["clean.py:9 NB004 upstream['load']['dataset']: task 'load' has no product 'dataset'"]
    assert check_lines(project) == expected
    assert hook_lines(project) == expected


def test_a_factory_spec_is_read_from_the_dag_it_returns(tmp_path):
    project = copied(SHAPES / "factory", tmp_path / "p")
    plant(project / "factory_pipeline.py", 'params={"alpha": 0.5}', 'params={"alpha": "high"}')
    expected = ["fit.py:7 NB003 task 'fit': pipeline.yaml passes parameter 'alpha' = 'high', "
                "a str, but its default 0.1 is float"]
    assert check_lines(project) == expected
    assert hook_lines(project) == expected
