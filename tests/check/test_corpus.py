"""The check on third-party material that arrives with the pinned dependencies, read from
site-packages at test time (nothing copied into the repository; the licences stay in the
packages' dist-info, which the first test asserts):

- ``ploomber scaffold``'s projects (ploomber-scaffold), both layouts: function tasks and a
  percent-format ``.py`` notebook task with imports above its parameters cell. Clean,
  they give no finding, for ``nbprod check``, for the hook, and for a real
  ``ploomber build`` with the hook; each planted fault gives its rule at its line.
- papermill's own test notebooks: the exact findings on each.
"""

from __future__ import annotations

import contextlib
import io
import subprocess
from importlib.metadata import distribution
from pathlib import Path

import papermill
import pytest
from hookkit import check_lines, hook_lines
from ploomber_scaffold import scaffold

from nbprod.check import Pipeline, check
from projectkit import BIN

PAPERMILL_NOTEBOOKS = Path(papermill.__file__).parent / "tests" / "notebooks"
SCAFFOLD_EXAMPLE = Path(scaffold.__file__).parent / "template" / "exploratory" / "example.ipynb"


def test_the_material_and_its_licences_are_installed():
    for package in ("papermill", "ploomber-scaffold"):
        files = [str(f) for f in distribution(package).files]
        assert any(f.endswith("LICENSE") for f in files), package
    assert len(list(PAPERMILL_NOTEBOOKS.glob("*.ipynb"))) == 22
    assert SCAFFOLD_EXAMPLE.is_file()


def scaffolded(dest: Path, package: bool) -> Path:
    """A project written by ``ploomber scaffold`` (``--package`` for the packaged layout)."""
    with contextlib.chdir(dest.parent), contextlib.redirect_stdout(io.StringIO()):
        scaffold.cli(dest.name, package=package, conda=False)
    return dest


def task_file(project: Path, package: bool) -> Path:
    return project / ("src/scaffold_pkg/scripts/fit.py" if package else "scripts/fit.py")


@pytest.mark.parametrize("package", [False, True], ids=["simple", "packaged"])
def test_scaffolded_projects_are_clean_for_the_check_and_the_hook(tmp_path, package):
    project = scaffolded(tmp_path / ("scaffold_pkg" if package else "scaffold_simple"), package)
    assert task_file(project, package).is_file()
    assert check_lines(project) == []
    assert hook_lines(project) == []


# (what is replaced, by what, the rule and line(s) expected in scripts/fit.py)
FAULTS = {
    "product key typo": ("product['model']", "product['modell']", "NB004", 38),
    "upstream typo": ("upstream = ['features']", "upstream = ['featurs']", "NB004", (13, 17)),
    "absolute path": ("str(upstream['features'])", "'/home/ana/features.csv'", "NB006", 17),
    "secret": ("y = df.target", 'y = df.target\ntoken = "ghp_' + "a1B2c3D4e5" * 4 + '"', "NB007", 20),
    "commented pip magic": ("# %%\ny_pred", "# %%\n# !pip install xgboost\ny_pred", "NB008", 32),
    "subprocess pip": ("# %%\ny_pred", "# %%\nimport subprocess\nsubprocess.run(['pip', 'install', "
                       "'xgboost'])\ny_pred", "NB008", 33),
    "undefined name": ("y_pred = clf.predict(X_test)", "y_pred = model.predict(X_test)", "NB009", 32),
    "python 2 print": ("print(classification_report(y_test, y_pred))",
                       "print classification_report(y_test, y_pred)", "NB010", 35),
    "parameter read above its cell": ("import pickle\n", "import pickle\nprint(upstream)\n",
                                      "NB002", 6),
}


@pytest.fixture(scope="module")
def simple_project(tmp_path_factory) -> Path:
    return scaffolded(tmp_path_factory.mktemp("corpus") / "scaffold_simple", package=False)


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_each_planted_fault_in_the_scaffolded_task_gives_its_rule(simple_project, tmp_path, fault):
    import shutil

    old, new, rule, line = FAULTS[fault]
    project = Path(shutil.copytree(simple_project, tmp_path / "scaffold_simple"))
    fit = project / "scripts" / "fit.py"
    assert old in fit.read_text()
    fit.write_text(fit.read_text().replace(old, new, 1))
    findings = check(root=project)
    lines = line if isinstance(line, tuple) else (line,)
    assert [(f.path, f.rule, f.file_line) for f in findings] == [
        ("scripts/fit.py", rule, n) for n in lines], [f.format() for f in findings]


def test_papermills_notebooks_give_exactly_these_findings():
    expected = {
        "binder.ipynb": [("NB002", 2, None)],
        "blank-vscode.ipynb": [("NB001", None, None), ("NB002", 1, None)],
        "broken.ipynb": [("NB005", None, None), ("NB002", 1, None), ("NB005", 1, None),
                         ("NB010", 1, 1), ("NB010", 3, 1)],
        "broken1.ipynb": [("NB005", None, None), ("NB002", 4, None), ("NB005", 4, None),
                          ("NB010", 8, 1)],
        "broken2.ipynb": [("NB005", None, None), ("NB002", 1, None), ("NB005", 1, None),
                          ("NB010", 3, 1)],
        "complex_parameters.ipynb": [("NB010", 1, 14)],  # `= 2`, a broken line on purpose
        "keyboard_interrupt.ipynb": [("NB002", 1, None), ("NB005", 1, None)],
        "line_magic_error.ipynb": [("NB002", 1, None)],
        "nb_version_4.4.ipynb": [("NB005", 1, None), ("NB005", 2, None)],
        "no_parameters.ipynb": [("NB002", 1, None)],
        "notimplemented_translator.ipynb": [],
        "read_check.ipynb": [("NB002", 1, None), ("NB006", 2, 2)],
        "report_mode_test.ipynb": [],
        "result_no_exec.ipynb": [("NB005", None, None)],
        "simple_execute.ipynb": [],
        "sysexit.ipynb": [("NB002", 1, None)],
        "sysexit0.ipynb": [("NB002", 1, None)],
        "sysexit1.ipynb": [("NB002", 1, None)],
        "systemexit.ipynb": [("NB002", 1, None)],
        "test_autosave.ipynb": [("NB002", 1, None), ("NB005", 1, None)],
        "test_logging.ipynb": [("NB002", 1, None), ("NB005", 1, None), ("NB005", 2, None),
                               ("NB005", 3, None)],
        "test_notebooknode_io.ipynb": [("NB002", 1, None)],
    }
    found = {}
    for path in sorted(PAPERMILL_NOTEBOOKS.glob("*.ipynb")):
        findings = check([path], root=PAPERMILL_NOTEBOOKS, pipeline=Pipeline(None, {}))
        found[path.name] = [(f.rule, f.cell, f.line) for f in findings]
    assert found == expected


def test_the_scaffolds_exploratory_notebook_is_not_a_task():
    findings = check([SCAFFOLD_EXAMPLE], root=SCAFFOLD_EXAMPLE.parent, pipeline=Pipeline(None, {}))
    assert [(f.rule, f.cell, f.message) for f in findings] == [
        ("NB002", 2, "no cell is tagged `parameters`")]


@pytest.mark.pipeline
def test_the_hook_never_blocks_a_valid_build_and_stops_a_broken_one(tmp_path):
    """A real `ploomber build` of the scaffolded project with `on_render` added."""
    project = scaffolded(tmp_path / "scaffold_simple", package=False)
    spec = project / "pipeline.yaml"
    spec.write_text("on_render: nbprod.pipeline.hooks.on_render\n\n" + spec.read_text())
    env = {"PLOOMBER_STATS_ENABLED": "false", "BENTOML_DO_NOT_TRACK": "true",
           "PATH": f"{BIN}:/usr/bin:/bin", "HOME": str(tmp_path)}

    def build():
        return subprocess.run([str(BIN / "ploomber"), "build"], cwd=project, env=env,
                              capture_output=True, text=True, timeout=600)

    built = build()
    assert built.returncode == 0, built.stdout + built.stderr
    assert (project / "products" / "model.pickle").is_file()
    fit = project / "scripts" / "fit.py"
    fit.write_text(fit.read_text().replace("product['model']", "product['modell']"))
    stopped = build()
    assert stopped.returncode != 0
    assert ("scripts/fit.py:38 NB004 product['modell'] is read, but the pipeline declares no "
            "such product (it has: model, nb)") in stopped.stdout + stopped.stderr
