import hashlib
import subprocess

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from nbprod import ConfigError, executed_notebooks, git_info, package_versions, sha256_file
from nbprod.registry.lineage import notebook_parameters


def test_sha256_matches_hashlib_across_chunks(tmp_path):
    blob = bytes(range(256)) * 5000
    (tmp_path / "f").write_bytes(blob)
    assert sha256_file(tmp_path / "f", chunk_size=1000) == hashlib.sha256(blob).hexdigest()


def test_git_info_in_and_outside_a_checkout(tmp_path):
    assert git_info(tmp_path) == {"commit": "unknown", "dirty": "unknown"}

    def run(*args):
        return subprocess.run(["git", *args], cwd=tmp_path, check=True, capture_output=True)

    run("init", "-q")
    (tmp_path / "a.txt").write_text("1")
    run("add", "a.txt")
    run("-c", "user.email=t@example.org", "-c", "user.name=t", "commit", "-qm", "one")
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=tmp_path, capture_output=True, text=True).stdout.strip()
    assert git_info(tmp_path) == {"commit": head, "dirty": False}
    (tmp_path / "a.txt").write_text("2")
    assert git_info(tmp_path) == {"commit": head, "dirty": True}


def test_package_versions():
    versions = package_versions(["pandas", "no-such-package-xyz"])
    assert versions["pandas"].count(".") >= 1
    assert versions["no-such-package-xyz"] == "not installed"
    assert versions["python"].startswith("3.")


def executed(tmp_path, source, tags=("injected-parameters",)):
    nb = new_notebook(cells=[new_code_cell("x = 0", metadata={"tags": ["parameters"]}),
                             new_code_cell(source, metadata={"tags": list(tags)})])
    path = tmp_path / "nb.ipynb"
    nbformat.write(nb, path)
    return path


def test_notebook_parameters_reads_the_injected_cell(tmp_path):
    root = tmp_path
    path = executed(tmp_path, f'x = 3\nname = "lr"\nopts = {{"C": 1.0}}\nproduct = {{"nb": "{root}/r/nb.ipynb"}}\nraw = "{root}/data/raw.csv"')
    assert notebook_parameters(path)["x"] == 3
    out = executed_notebooks({"train": path}, root=root)["train"]
    assert out["parameters"] == {"x": 3, "name": "lr", "opts": {"C": 1.0}, "raw": "data/raw.csv"}
    assert out["path"] == "nb.ipynb"
    assert out["sha256"] == sha256_file(path)


def test_a_notebook_that_was_not_executed_is_a_clear_error(tmp_path):
    path = executed(tmp_path, "x = 1", tags=())
    with pytest.raises(ConfigError, match="no cell tagged 'injected-parameters'"):
        notebook_parameters(path)


def test_a_non_literal_parameter_is_named(tmp_path):
    path = executed(tmp_path, "x = compute()")
    with pytest.raises(ConfigError, match="'x' is not a literal"):
        notebook_parameters(path)


def test_find_project_root_from_the_project_or_a_subfolder(tmp_path):
    from nbprod.registry.lineage import find_project_root

    (tmp_path / "pipeline.yaml").write_text("tasks: []\n")
    (tmp_path / "notebooks").mkdir()
    assert find_project_root(tmp_path) == tmp_path.resolve()
    assert find_project_root(tmp_path / "notebooks") == tmp_path.resolve()
    with pytest.raises(ConfigError, match="no pipeline.yaml"):
        find_project_root(tmp_path.parent)
