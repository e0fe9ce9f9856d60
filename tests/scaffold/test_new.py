"""`nbprod new` on good and bad input: one clear line and nothing half-written on bad input,
a complete project (its own git repository) on good input."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from datasets import DATASETS

from nbprod.errors import NbprodError
from nbprod.scaffold.project import create_project, templates
from nbprod.scaffold.writer import write_tree

NBPROD = str(Path(sys.executable).parent / "nbprod")


def nbprod_new(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([NBPROD, "new", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=300)


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    """The credit data set as a CSV file, and a few broken files beside it."""
    folder = tmp_path_factory.mktemp("data")
    DATASETS["credit"].write(folder)
    (folder / "empty.csv").write_text("")
    (folder / "header-only.csv").write_text("a,b,status\n")
    (folder / "broken.csv.gz").write_bytes(b"this is not gzip")
    (folder / "three.csv").write_text("x,y\n" + "".join(f"{i},{'abc'[i % 3]}\n" for i in range(30)))
    (folder / "one.csv").write_text("x,y\n" + "".join(f"{i},same\n" for i in range(30)))
    (folder / "blank.csv").write_text("x,y\n" + "".join(f"{i},\n" for i in range(30)))
    return folder


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


@pytest.mark.parametrize(("args", "message"), [
    (["--data", "missing.csv", "--target", "Status"], "missing.csv: no such file"),
    (["--data", "empty.csv", "--target", "Status"], "empty.csv: the file is empty"),
    (["--data", "header-only.csv", "--target", "status"], "has a header (3 columns) but no rows"),
    (["--data", "broken.csv.gz", "--target", "Status"], "broken.csv.gz: cannot be parsed"),
    (["--data", "credit.csv", "--target", "Outcome"],
     "--target 'Outcome' is not a column of the data; its columns: 'Customer ID', 'Age'"),
    (["--data", "three.csv", "--target", "y", "--kind", "binary"],
     "--kind binary: target column 'y' has 3 values, a binary model needs exactly two"),
    (["--data", "three.csv", "--target", "y", "--kind", "regression"],
     "target column 'y' has 30 value(s) that are not numbers (row 0: 'a', row 1: 'b', row 2: 'c'"),
    (["--data", "one.csv", "--target", "y"],
     "target column 'y' has one value only ('same'): there is nothing to learn"),
    (["--data", "blank.csv", "--target", "y"], "target column 'y' is blank on every row"),
    (["--data", "credit.csv", "--target", "Status", "--positive", "ok"],
     "--positive 'ok' is not a value of target column 'Status'; its values: 'bad', 'good'"),
    (["--data", "credit.csv", "--target", "Status", "--name", "My Project"],
     "--name 'My Project' is not a lower-case Python identifier; try --name my_project"),
    (["--data", "credit.csv", "--target", "Status", "--name", "pandas"],
     "--name 'pandas' is already an importable Python module"),
])
def test_bad_input_is_one_line_and_writes_nothing(data, args, message):
    result = nbprod_new(data, "project", *args)
    assert result.returncode == 1, result.stderr
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("error: "), result.stderr
    assert message in result.stderr
    assert not (data / "project").exists()
    assert leftovers(data) == []


def test_a_non_empty_folder_is_refused_and_left_alone(data, tmp_path):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    result = nbprod_new(tmp_path, "mine", "--data", str(data / "credit.csv"), "--target", "Status")
    assert result.returncode == 1
    assert "mine exists and is not empty; give a new or empty folder" in result.stderr
    assert [p.name for p in (tmp_path / "mine").iterdir()] == ["notes.txt"]


def test_a_failure_while_writing_leaves_nothing(tmp_path):
    def fail(folder: Path) -> None:
        assert (folder / "a.txt").read_text() == "a"
        raise NbprodError("git commit failed")

    with pytest.raises(NbprodError, match="git commit failed"):
        write_tree(tmp_path / "p", {"a.txt": "a", "sub/b.txt": "b"}, finish=fail)
    assert list(tmp_path.iterdir()) == []


def test_templates_name_no_project():
    for rel, text in templates().items():
        for word in ("churn", "telco", "customer"):
            assert word not in text.lower() and word not in rel.lower(), (rel, word)


@pytest.fixture(scope="module")
def project(data, tmp_path_factory) -> tuple[Path, subprocess.CompletedProcess]:
    dest = tmp_path_factory.mktemp("new") / "credit"
    result = nbprod_new(dest.parent, "credit", "--data", str(data / "credit.csv"),
                        "--target", "Status")
    assert result.returncode == 0, result.stderr
    return dest, result


def test_new_says_what_it_chose(project):
    _, result = project
    out = result.stdout
    assert "wrote " in out and "(credit): 6 features, 1,500 rows" in out
    assert "left out  Customer ID: id-like (a different value on every row)" in out
    assert 'left out  Country: constant (always "US")' in out
    assert "positive  status == 'bad' (the minority class; change it in columns.yaml)" in out
    assert "cd credit && make run && make test" in out


def test_new_writes_a_complete_project_with_a_first_commit(project):
    dest, _ = project
    for rel in ("columns.yaml", "pipeline.yaml", "env.yaml", "env.smoke.yaml", "bentofile.yaml",
                "Makefile", ".ci/run", ".gitignore", "README.md", "pyproject.toml",
                "environment.yml", "requirements.lock.txt", "src/credit/__init__.py",
                "data/raw/credit.csv", "tests/conftest.py", "trust.yaml"):
        assert (dest / rel).is_file(), rel
    # its own package is trusted, and the bento carries the trust file
    trust = yaml.safe_load((dest / "trust.yaml").read_text())
    assert trust == {"libraries": [], "packages": ["credit"], "types": []}
    assert "trust.yaml" in yaml.safe_load((dest / "bentofile.yaml").read_text())["include"]
    assert (dest / ".ci/run").stat().st_mode & 0o111
    assert len(list((dest / "wheels").glob("nbprod-*-py3-none-any.whl"))) == 1
    table = yaml.safe_load((dest / "columns.yaml").read_text())
    assert table["target"] == "status" and table["positive"] == "bad"
    assert table["record"] == "Record"
    log = subprocess.run(["git", "log", "--format=%s"], cwd=dest, capture_output=True,
                         text=True, check=True).stdout.splitlines()
    assert log == ["nbprod new: credit, predicting status"]
    status = subprocess.run(["git", "status", "--porcelain"], cwd=dest, capture_output=True,
                            text=True, check=True).stdout
    assert status == ""
    for path in dest.rglob("*"):
        if path.is_file() and ".git" not in path.parts and path.suffix not in (".whl",):
            assert "@@" not in path.read_text(errors="replace"), path


def test_the_makefile_installs_with_uv_and_says_what_it_does(project):
    """What `make install` would run on a fresh machine (make's dry run, nothing installed):
    the pinned uv, then the lock file through it, each step announced; and `make lab` puts
    the project's Lab settings (no Ploomber Cloud button) on Jupyter's config path."""
    dest, _ = project
    dry = subprocess.run(["make", "-n", "install", "lab", "plot", "VENV=/nonexistent/venv"],
                         cwd=dest, capture_output=True, text=True, timeout=60)
    assert dry.returncode == 0, dry.stderr
    lock = (dest / "requirements.lock.txt").read_text()
    uv = next(line for line in lock.splitlines() if line.startswith("uv=="))
    assert f"--quiet {uv}" in dry.stdout  # the pinned uv
    assert "echo \"installing the project and its pinned dependencies" in dry.stdout
    assert "/nonexistent/venv/bin/uv pip install --compile-bytecode" in dry.stdout
    assert "-c requirements.lock.txt wheels/nbprod-" in dry.stdout
    assert f"JUPYTER_CONFIG_PATH={dest}/jupyter" in dry.stdout
    assert "nbprod plot --output products/pipeline.html" in dry.stdout
    overrides = json.loads((dest / "jupyter/labconfig/default_setting_overrides.json").read_text())
    assert overrides == {"ploomber-extension:settings": {"showShareNotebook": False},
                         "@jupyterlab/apputils-extension:notification": {
                             "checkForUpdates": False, "fetchNews": "false"}}
    page_config = json.loads((dest / "jupyter/labconfig/page_config.json").read_text())
    assert page_config == {"disabledExtensions": {"ploomber-extension": True}}
    assert "--ServerApp.jpserver_extensions=nbprod.pipeline.lab_panel=True" in dry.stdout


def test_lock_file_is_nbprods_own():
    root = Path(__file__).resolve().parents[2]
    from nbprod.scaffold.project import lock_file

    assert lock_file() == (root / "requirements.lock.txt").read_text()


def test_create_project_without_wheel(tmp_path):
    ds = DATASETS["machines"]
    path = ds.write(tmp_path, ".parquet")
    created = create_project(tmp_path / "m", path, "Failed", positive="1", wheel=False)
    assert created.name == "m" and created.table.positive == 1
    assert not (tmp_path / "m" / "wheels").exists()
    assert (tmp_path / "m" / "data/raw/machines.parquet").read_bytes() == path.read_bytes()
    assert "sample_rows: 0" in (tmp_path / "m" / "env.smoke.yaml").read_text()


def test_gzip_csv_is_read(tmp_path):
    path = tmp_path / "small.csv.gz"
    with gzip.open(path, "wt") as f:
        DATASETS["credit"].frame.to_csv(f, index=False)
    created = create_project(tmp_path / "g", path, "Status", wheel=False)
    assert created.table.rows == 1500


def test_an_existing_empty_folder_is_used(tmp_path):
    ds = DATASETS["tumours"]
    path = ds.write(tmp_path)
    (tmp_path / "empty").mkdir()
    created = create_project(tmp_path / "empty", path, "diagnosis", positive="malignant",
                             name="tumours_model", wheel=False)
    assert created.path == (tmp_path / "empty").absolute()
    assert (tmp_path / "empty/src/tumours_model/__init__.py").is_file()
    umask = os.umask(0)
    os.umask(umask)
    assert (tmp_path / "empty").stat().st_mode & 0o777 == 0o777 & ~umask
    assert leftovers(tmp_path) == []


def test_new_prints_the_date_format_it_chose_and_why_it_chose_none(tmp_path):
    rows = [f"{['4/29/17', '5/6/17', '9/24/16'][i % 3]},{['03/04/2016', '05/06/2016'][i % 2]},"
            f"{i % 7},{i * 1.5}\n" for i in range(40)]
    (tmp_path / "sales.csv").write_text("Date,Visit,size,price\n" + "".join(rows))
    done = nbprod_new(tmp_path, "sales", "--data", "sales.csv", "--target", "price")
    assert done.returncode == 0, done.stderr
    assert "dates     date: format %m/%d/%y" in done.stdout
    assert "note      visit: dates readable as %m/%d/%Y or %d/%m/%Y" in done.stdout
    spec = yaml.safe_load((tmp_path / "sales/columns.yaml").read_text())
    assert spec["columns"]["date"]["format"] == "%m/%d/%y"
    assert spec["columns"]["visit"]["kind"] == "categorical"
