"""Shapes met in public notebooks: other kernels, near-valid files, Python 2 cells, and
the false positives and negatives found on Ploomber's own templates (fixtures named after what they show)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from nbprod.check import Pipeline, check
from projectkit import BIN

FIXTURES = Path(__file__).parent / "fixtures"
NO_PIPELINE = Pipeline(path=None, tasks={})


def found(name: str) -> list[tuple[str, int | None, int | None, str]]:
    findings = check([FIXTURES / name], root=FIXTURES, pipeline=NO_PIPELINE)
    return [(f.rule, f.cell, f.line, f.message) for f in findings]


# correct code that used to be reported
CLEAN = [
    "r_kernel.ipynb",                    # R, Julia and bash: no NB001, no Python rule on them
    "r_upstream_null.ipynb",             # `upstream <- NULL` is R, not Python
    "julia_kernel.ipynb",
    "bash_kernel.ipynb",                 # `pip install` and /home paths in bash: not Python
    "nbformat44_with_ids.ipynb",         # cell ids in 4.4: JupyterLab reads and writes them
    "imports_above_parameters.ipynb",    # Ploomber's templates import above the parameters
    "url_routes.ipynb",                  # NB006: "/predict/", "/api/v1/predict/"
    "globs_and_joined_file_names.ipynb",  # NB006: "*.parquet", Path(dp, "args.json")
    "not_secrets.ipynb",                 # NB007: task names, sha256, columns, oauth2, ...
    "capture_global_and_spark.ipynb",    # NB009: %%capture name, global G, PySpark's sc
    "run_magic.ipynb",                   # NB009: %run defines names the check cannot see
]


@pytest.mark.parametrize("name", CLEAN)
def test_correct_code_gives_no_finding(name):
    assert found(name) == []


# code that is wrong, and what is reported
BROKEN = {
    "secret_attribute.ipynb": [("NB007", 2, 2, "hard-coded secret in 'api_key': q8Jd... (10 chars)")],
    "bearer_header.ipynb": [("NB007", 2, 1, "bearer token Bear... (31 chars)")],
    "pip_via_sys_executable.ipynb": [
        ("NB008", 2, 2, "package install in a notebook: '!{sys.executable} -m pip install lightgbm'")],
    "pip_via_subprocess.ipynb": [
        ("NB008", 2, 3, "package install in a notebook: \"subprocess.run(['pip', 'install', "
                        "'lightgbm'])\""),
        ("NB008", 2, 4, "package install in a notebook: \"subprocess.check_call([sys.executable, "
                        "'-m', 'pip', 'install', 'xgboost'])\"")],
    "used_after_del.ipynb": [("NB009", 3, 1, "'frame' is read after `del frame` (cell 2, line 2)")],
    # a Python 2 cell is reported, and NB009 still runs on the cells that parse: `x` is
    # bound by the broken cell, `y` by none
    "python2_print.ipynb": [
        ("NB010", 2, 1, "the cell does not parse as Python: Missing parentheses in call to "
                        "'print'. Did you mean print(...)?"),
        ("NB009", 4, 1, "'y' is not defined in any cell")],
    # near-valid files: one NB001 naming the cell, and the other rules still run
    "cell_without_source.ipynb": [
        ("NB001", 2, None, "not valid nbformat: the code cell has no `source`"),
        ("NB009", 3, 1, "'undefined_name' is not defined in any cell")],
    "raw_cell_with_outputs.ipynb": [
        ("NB001", 2, None, "not valid nbformat: the raw cell carries outputs (only code cells "
                           "have them)")],
    "code_above_parameters.ipynb": [
        ("NB002", 2, 2, "binds 'threshold', which the parameters cell (cell 3) declares: this "
                        "cell runs before the pipeline injects its value")],
}


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_wrong_code_gives_exactly_its_findings(name):
    assert sorted(found(name), key=lambda f: (f[1] or 0, f[2] or 0)) == BROKEN[name]


def test_near_valid_notebooks_leave_nothing_on_stderr(tmp_path):
    """nbformat logs a raw schema dump (`ERROR:traitlets`) when it validates on reading;
    the check reads without it and says what is wrong in one finding."""
    names = ["nbformat44_with_ids.ipynb", "cell_without_source.ipynb", "raw_cell_with_outputs.ipynb"]
    done = subprocess.run([str(BIN / "nbprod"), "check", *(str(FIXTURES / n) for n in names)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stderr and "traitlets" not in done.stderr
    assert done.stdout.splitlines()[-1] == "3 error(s), 0 warning(s) in 2 of 3 notebook(s)"


def test_no_input_prints_a_traceback(tmp_path):
    """Odd files and folders: findings, or one error line and exit code 2; JSON stays JSON."""
    (tmp_path / "list.ipynb").write_text("[1, 2]")
    (tmp_path / "no_version.ipynb").write_text('{"cells": []}')
    (tmp_path / "binary.ipynb").write_bytes(b"\x00\xff\xfe")
    (tmp_path / "cells_not_list.ipynb").write_text('{"cells": 3, "nbformat": 4, "metadata": {}}')
    (tmp_path / "script.py").write_text("# %%\nprint(undefined)\n")
    (tmp_path / "module.py").write_text("def f():\n    return 1\n")  # no cell: not a notebook
    (tmp_path / "broken.yaml").write_text("tasks: [")
    done = subprocess.run([str(BIN / "nbprod"), "check", "--format", "json", str(tmp_path)],
                          capture_output=True, text=True, timeout=120)
    assert "Traceback" not in done.stderr
    report = json.loads(done.stdout)
    assert done.returncode == 1 and report["notebooks"] == 5
    rules = sorted((Path(f["path"]).name, f["rule"]) for f in report["findings"])
    assert ("script.py", "NB009") in rules and ("module.py", "NB009") not in {
        (n, r) for n, r in rules}
    assert {n for n, r in rules if r == "NB001"} == {"list.ipynb", "no_version.ipynb",
                                                      "binary.ipynb", "cells_not_list.ipynb"}
    bad_spec = subprocess.run([str(BIN / "nbprod"), "check", "--format", "json", "--pipeline",
                               str(tmp_path / "broken.yaml")], capture_output=True, text=True,
                              timeout=120)
    assert bad_spec.returncode == 2 and "Traceback" not in bad_spec.stderr
    assert "broken.yaml: Ploomber cannot load it" in json.loads(bad_spec.stdout)["error"]
