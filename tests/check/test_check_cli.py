"""`nbprod check` on the command line: exit codes, text and JSON output, --fix, plugins."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from pathlib import Path

import nbformat
from click.testing import CliRunner

from nbprod.check import Hit, check, fix_findings, rule, unregister
from nbprod.cli import main
from projectkit import BIN, ROOT

FIXTURES = Path(__file__).parent / "fixtures"


def run(*args: str):
    return CliRunner().invoke(main, ["check", *args])


def test_the_project_passes_and_exits_0(monkeypatch):
    monkeypatch.chdir(ROOT)
    result = run()
    assert result.exit_code == 0, result.output
    assert "notebook(s) checked: every one keeps the contract" in result.output


def test_findings_exit_1_with_location_rule_message_and_hint():
    result = run(str(FIXTURES / "used_before_defined.ipynb"))
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines[0].endswith("used_before_defined.ipynb:2:1 NB009 'frame' is read before it is "
                             "defined (first bound in cell 3, line 2)")
    assert lines[1].startswith("    hint: move the definition above its first use")
    assert lines[-1] == "1 error(s), 0 warning(s) in 1 of 1 notebook(s)"


def test_json_output():
    result = run("--format", "json", str(FIXTURES / "pip_install.ipynb"))
    assert result.exit_code == 1
    report = json.loads(result.output)
    assert report["errors"] == 2 and report["warnings"] == 0
    first = report["findings"][0]
    assert {k: first[k] for k in ("cell", "line", "rule", "name", "severity")} == {
        "cell": 2, "line": 1, "rule": "NB008", "name": "no-installs", "severity": "error"}
    assert first["hint"]


def test_fix_strips_outputs_and_injected_cells(tmp_path):
    for name in ("with_outputs.ipynb", "injected_cell.ipynb"):
        shutil.copy(FIXTURES / name, tmp_path / name)
    result = run("--fix", str(tmp_path))
    assert result.exit_code == 0, result.output
    assert "removed 1 output(s), 1 execution count(s)" in result.output
    assert "1 injected cell(s)" in result.output
    nb = nbformat.read(tmp_path / "injected_cell.ipynb", as_version=4)
    assert len(nb.cells) == 2 and "papermill" not in nb.metadata and "ploomber" not in nb.metadata
    assert nbformat.read(tmp_path / "with_outputs.ipynb", as_version=4).cells[1].outputs == []
    assert run(str(tmp_path)).exit_code == 0


def test_fix_findings_cleans_each_unclean_notebook_once(tmp_path):
    for name in ("with_outputs.ipynb", "injected_cell.ipynb", "clean.ipynb"):
        shutil.copy(FIXTURES / name, tmp_path / name)
    findings = check([tmp_path])
    fixed = list(fix_findings(findings + findings))  # a notebook found twice is cleaned once
    assert sorted(f.path.name for f in fixed) == ["injected_cell.ipynb", "with_outputs.ipynb"]
    assert not [f for f in check([tmp_path]) if f.rule == "NB005"]
    assert list(fix_findings(findings)) == []  # already clean: nothing removed


def test_select_and_ignore():
    path = str(FIXTURES / "pip_install.ipynb")
    assert run("--ignore", "NB008", path).exit_code == 0
    assert run("--select", "NB001,NB002", path).exit_code == 0
    result = run("--select", "NB999", path)
    assert result.exit_code == 2 and result.output.count("\n") == 1
    assert "unknown rule id(s) ['NB999']" in result.output


def test_a_missing_path_is_one_clear_line():
    result = run("no/such/notebook.ipynb")
    assert result.exit_code == 2
    assert result.output.strip() == "error: no/such/notebook.ipynb: no such file or folder"


def test_list_rules_and_help():
    listed = run("--list-rules").output.splitlines()
    assert [line.split()[0] for line in listed] == [f"NB{i:03d}" for i in range(1, 11)]
    assert "Usage" in run("--help").output


def test_a_project_can_register_its_own_rule():
    @rule("ACME001", "no-print", "no print() in pipeline notebooks")
    def no_print(nb):
        for cell, line, text in nb.code_lines():
            if "print(" in text:
                yield Hit(cell, line, "print() in a pipeline notebook", "display() instead")

    try:
        findings = check([FIXTURES / "clean.ipynb"], select=["ACME001"], root=FIXTURES)
        assert [(f.rule, f.cell) for f in findings] == [("ACME001", 4), ("ACME001", 6),
                                                        ("ACME001", 7)]
    finally:
        unregister("ACME001")


def test_check_of_the_project_is_fast(capsys):
    """Prints the wall time of `nbprod check` on the project against the bare import of
    Ploomber's spec loader (a floor no check can go below), measured in the same run."""

    def wall(*cmd: str) -> float:
        started = time.perf_counter()
        done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stdout + done.stderr
        return time.perf_counter() - started

    floor = wall(str(BIN / "python"), "-c", "import ploomber.spec")
    took = min(wall(str(BIN / "nbprod"), "check") for _ in range(2))
    with capsys.disabled():
        print(f"\nnbprod check on the project: {took:.2f} s; `import ploomber.spec`: "
              f"{floor:.2f} s; ratio {took / floor:.2f}")


def test_fix_takes_an_injected_cell_out_of_a_percent_py_task(tmp_path):
    task = tmp_path / "fit.py"
    task.write_text('# %%\nimport json\n\n# %% tags=["parameters"]\nupstream = None\nproduct = None\n\n'
                    '# %% tags=["injected-parameters"]\nproduct = "/home/ana/out.ipynb"\n\n'
                    '# %%\nprint(json.dumps(product))\n')
    first = run(str(task))
    assert first.exit_code == 1 and "fit.py:9 NB005 an injected-parameters cell" in first.output
    fixed = run("--fix", str(task))
    assert fixed.exit_code == 0, fixed.output
    assert "removed 0 output(s), 0 execution count(s), 1 injected cell(s)" in fixed.output
    assert "injected-parameters" not in task.read_text() and "/home/ana" not in task.read_text()
    assert 'tags=["parameters"]' in task.read_text()


def test_a_folder_scan_finds_percent_py_notebooks_and_skips_modules(tmp_path):
    (tmp_path / "task.py").write_text('# %% tags=["parameters"]\nupstream = None\n\n# %%\n'
                                      'x = "/home/ana/raw.csv"\n')
    (tmp_path / "helpers.py").write_text('PATH = "/home/ana/raw.csv"\n')
    result = run(str(tmp_path))
    assert result.exit_code == 1
    assert result.output.splitlines()[0].endswith("task.py:5 NB006 absolute path '/home/ana/raw.csv'")
    assert "helpers.py" not in result.output
    assert result.output.splitlines()[-1] == "1 error(s), 0 warning(s) in 1 of 1 notebook(s)"
