"""Each rule against a fixture notebook that breaks it and one that keeps it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from nbprod.check import RULES, Finding, Pipeline, check, run
from nbprod.check.rules import type_mismatch
from projectkit import ROOT

FIXTURES = Path(__file__).parent / "fixtures"
NO_PIPELINE = Pipeline(path=None, tasks={})

# fixture -> (rule, cell, line, words the message must contain)
BROKEN = {
    "invalid_json.ipynb": ("NB001", None, None, "not valid JSON (line 2, column 1)"),
    "no_parameters.ipynb": ("NB002", 2, None, "no cell is tagged `parameters`"),
    "two_parameters_cells.ipynb": ("NB002", 2, None, "2 cells are tagged `parameters`"),
    "code_above_parameters.ipynb": ("NB002", 2, 2, "binds 'threshold', which the parameters cell "
                                    "(cell 3) declares"),
    "with_outputs.ipynb": ("NB005", 2, None, "1 output(s) and execution count 3"),
    "injected_cell.ipynb": ("NB005", 2, None, "injected-parameters cell is saved in the source"),
    "absolute_path.ipynb": ("NB006", 3, 1, "absolute path '/home/ana/churn/raw.csv'"),
    "hardcoded_data_path.ipynb": ("NB006", 3, 1, "hard-coded data path 'data/clean.parquet'"),
    "secret_token.ipynb": ("NB007", 3, 1, "AWS access key id AKIA..."),
    "password_assignment.ipynb": ("NB007", 2, 1, "hard-coded secret in 'db_password'"),
    "high_entropy_string.ipynb": ("NB007", 2, 1, "high-entropy string"),
    "pip_install.ipynb": ("NB008", 2, 1, "package install in a notebook: '%pip install"),
    "cd_outside.ipynb": ("NB008", 2, 1, "`%cd /tmp` leaves the project folder"),
    "used_before_defined.ipynb": ("NB009", 2, 1, "'frame' is read before it is defined (first bound in cell 3"),
    "undefined_name.ipynb": ("NB009", 2, 1, "'model' is not defined in any cell"),
}


def findings_of(name: str) -> list[Finding]:
    """The findings on one fixture, checked on its own (no pipeline)."""
    return check([FIXTURES / name], root=FIXTURES, pipeline=NO_PIPELINE)


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_each_broken_fixture_breaks_exactly_its_rule(name):
    rule, cell, line, words = BROKEN[name]
    findings = findings_of(name)
    assert {f.rule for f in findings} == {rule}, [f.format() for f in findings]
    match = [f for f in findings if words in f.message]
    assert match, [f.format() for f in findings]
    assert (match[0].cell, match[0].line) == (cell, line)
    assert match[0].path == name and match[0].hint and match[0].severity == "error"


def test_the_clean_fixture_keeps_every_rule():
    # comprehensions, a walrus, functions calling a later function, a class, try/except,
    # with, a lambda, line and cell magics (%%time, %%bash) and `# nbprod: ignore[NB007]`
    assert findings_of("clean.ipynb") == []


def test_every_rule_has_a_broken_fixture():
    assert {rule for rule, *_ in BROKEN.values()} | {"NB003", "NB004", "NB010"} == set(RULES)


def test_imports_above_the_parameters_cell_are_allowed():
    # Ploomber's templates import (and set plot styles) above the parameters cell
    assert findings_of("imports_above_parameters.ipynb") == []


def test_the_projects_notebooks_keep_the_contract():
    findings = check(root=ROOT)
    assert findings == [], "\n".join(f.format() for f in findings)


def test_inline_ignore_silences_one_rule_on_one_line(tmp_path):
    source = (FIXTURES / "absolute_path.ipynb").read_text()
    silenced = tmp_path / "silenced.ipynb"
    silenced.write_text(source.replace("raw.csv')", "raw.csv')  # nbprod: ignore[NB006]"))
    assert findings_of("absolute_path.ipynb")
    assert check([silenced], pipeline=NO_PIPELINE) == []


def test_finding_format_is_path_cell_line_rule_message_and_hint():
    (finding,) = findings_of("absolute_path.ipynb")
    first, hint = finding.format().split("\n")
    assert first.startswith("absolute_path.ipynb:3:1 NB006 absolute path")
    assert hint.strip().startswith("hint: pass it from pipeline.yaml")


@pytest.mark.parametrize(
    ("default", "value", "ok"),
    [
        (0.5, 1, True),  # an int where a float is expected: accepted (documented)
        (0.5, 0.7, True),
        (0.5, "high", False),
        (0.5, True, False),  # a bool is not a number here
        (5, 2.5, False),
        (5, True, False),
        (False, 0, False),
        (True, False, True),
        ("lbfgs", "saga", True),
        ("lbfgs", 3, False),
        (["a"], ["a", "b"], True),
        (["a"], "a", False),
        ({"C": 1.0}, {"C": 0.5}, True),
        ({"C": 1.0}, ["C"], False),
        (None, "anything", True),  # no typed default: nothing to compare
    ],
)
def test_parameter_types(default, value, ok):
    assert (type_mismatch(default, value) is None) is ok


def test_a_notebook_nested_too_deep_for_python_is_one_finding_and_the_others_are_checked(
        tmp_path):
    """A 200,000-deep JSON value stopped the whole run with a RecursionError naming no file."""
    nb = json.loads((FIXTURES / "clean.ipynb").read_text())
    nb["metadata"]["deep"] = "DEEP"
    deep = '{"x": ' * 200_000 + "1" + "}" * 200_000
    (tmp_path / "deep.ipynb").write_text(json.dumps(nb).replace('"DEEP"', deep))
    shutil.copy(FIXTURES / "clean.ipynb", tmp_path / "clean.ipynb")
    report = run([tmp_path / "deep.ipynb", tmp_path / "clean.ipynb"], root=tmp_path,
                 pipeline=NO_PIPELINE)
    assert sorted(report.notebooks) == ["clean.ipynb", "deep.ipynb"]
    (finding,) = report.findings
    assert (finding.path, finding.rule) == ("deep.ipynb", "NB001")
    assert "nested too deeply to read" in finding.message
