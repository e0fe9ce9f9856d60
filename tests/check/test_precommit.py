"""The pre-commit hooks (local, no download) on a git copy of the project: a notebook
saved with outputs fails the commit and is stripped by the hook; the contract check and
ruff pass."""

from __future__ import annotations

import json
import os
import shutil
import subprocess

from projectkit import BIN, ROOT, copy_project


def test_precommit_hooks_pass_then_strip_outputs(tmp_path):
    project = copy_project(tmp_path / "project")
    for name in (".pre-commit-config.yaml", "pyproject.toml"):
        shutil.copy(ROOT / name, project / name)
    env = dict(os.environ, PRE_COMMIT_HOME=str(tmp_path / "cache"),
               PATH=f"{BIN}{os.pathsep}{os.environ['PATH']}")

    def git(*args):
        subprocess.run(["git", "-c", "user.email=t@example.org", "-c", "user.name=t", *args],
                       cwd=project, check=True, capture_output=True)

    def precommit():
        return subprocess.run([str(BIN / "pre-commit"), "run", "--all-files"], cwd=project,
                              env=env, capture_output=True, text=True, timeout=300)

    git("init", "-q")
    notebook = project / "notebooks" / "train.ipynb"
    nb = json.loads(notebook.read_text())
    nb["cells"][2]["execution_count"] = 7
    nb["cells"][2]["outputs"] = [{"output_type": "stream", "name": "stdout", "text": ["hi\n"]}]
    notebook.write_text(json.dumps(nb, indent=1) + "\n")
    git("add", ".")
    dirty = precommit()
    assert dirty.returncode == 1
    assert "files were modified by this hook" in dirty.stdout
    assert dirty.stdout.count("Passed") == 2, dirty.stdout  # nbprod check, ruff
    assert notebook.read_text() == (ROOT / "notebooks" / "train.ipynb").read_text()
