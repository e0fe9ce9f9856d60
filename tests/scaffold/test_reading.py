"""`nbprod new` reads the files people have: the delimiter sniffed and said, a first line
of data refused with a hint, a misspelt target answered with the nearest column.

Real files: the CSVs that ship inside scikit-learn (iris.csv's first line is
``150,4,setosa,versicolor,virginica``) and its wine data written as a spreadsheet in a
comma-decimal locale or a tab-separated export would write it.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import sklearn
import yaml
from sklearn.datasets import load_wine

from nbprod.data.files import delimiter_of, read_table, sniff_delimiter

NBPROD = str(Path(sys.executable).parent / "nbprod")
SKLEARN_DATA = Path(sklearn.__file__).parent / "datasets" / "data"


def nbprod_new(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([NBPROD, "new", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=300)


def wine_file(folder: Path, delimiter: str) -> Path:
    frame = load_wine(as_frame=True).frame
    path = folder / "wine.csv"
    frame.to_csv(path, sep=delimiter, index=False)
    return path


@pytest.mark.parametrize(("delimiter", "name"), [
    (";", "semicolon"), ("\t", "tab"), ("|", "pipe"), (",", "comma")])
def test_the_delimiter_is_sniffed_and_said(tmp_path, delimiter, name):
    path = wine_file(tmp_path, delimiter)
    result = nbprod_new(tmp_path, "wine", "--data", str(path), "--target", "target",
                        "--name", "wine_project")
    assert result.returncode == 0, result.stderr
    assert f"read      wine.csv: {name}-separated ({delimiter!r}, sniffed" in result.stdout
    table = yaml.safe_load((tmp_path / "wine" / "columns.yaml").read_text())
    assert table["kind"] == "multiclass"
    assert table["columns"]["alcohol"]["kind"] == "number"
    assert len(table["columns"]) == 14  # 13 measurements and the target, none glued together
    # the pipeline reads the raw file with the same delimiter
    raw = read_table(tmp_path / "wine" / "data" / "raw" / "wine.csv")
    assert raw.shape == (178, 14)


def test_the_files_scikit_learn_ships_are_comma_separated():
    for name in ("iris.csv", "wine_data.csv", "breast_cancer.csv"):
        assert sniff_delimiter(SKLEARN_DATA / name) == ","


@pytest.mark.parametrize(("text", "delimiter"), [
    ("a;b;c\n1,5;2;3\n", ";"),             # comma decimals under semicolons
    ('a|b\n"x|y"|2\n', "|"),               # a quoted delimiter is not one
    ("x\n1\n2\n", ","),                    # one column: the usual comma
    ("a,b\n1,2\n3,4\n5,", ","),            # the last line cut by the sniffer's limit
])
def test_delimiter_of_text(text, delimiter):
    assert delimiter_of(text) == delimiter


def test_a_first_line_of_data_is_refused_with_a_hint(tmp_path):
    iris = SKLEARN_DATA / "iris.csv"
    assert iris.read_text().splitlines()[0].startswith("150,4,setosa")
    result = nbprod_new(tmp_path, "iris", "--data", str(iris), "--target", "setosa")
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1, result.stderr
    assert "iris.csv: its first line looks like data, not a header: 150, 4 are numbers; " \
        "add a first line naming the columns" in result.stderr
    assert not (tmp_path / "iris").exists()


@pytest.mark.parametrize(("target", "meant"), [
    ("Satus", "Status"), ("debt_ration", "DebtRatio"), ("anual_income", "Annual Income ($)")])
def test_an_unknown_target_gets_did_you_mean(tmp_path, target, meant):
    from datasets import DATASETS

    path = DATASETS["credit"].write(tmp_path)
    result = nbprod_new(tmp_path, "credit", "--data", str(path), "--target", target)
    assert result.returncode == 1
    assert f"--target {target!r} is not a column of the data; did you mean {meant!r}?" \
        in result.stderr, result.stderr
