"""The JupyterLab loop with real parts: a smoke build in a git checkout, then `jupyter lab`
started as `make lab` starts it, on a free loopback port with a token. Opening a pipeline
notebook gets the task's parameters injected in memory (``nbprod.pipeline.lab``); it runs cell by
cell through the server's kernel API (REST + websocket, as JupyterLab does) and writes its
product; saving it writes back the committed source byte for byte, so `nbprod check`
passes and the lineage's ``git dirty`` stays false.

Ploomber's own Jupyter extension does the same injection, but answers 500 to every
notebook opened beside jupytext's asynchronous contents manager
(``'coroutine' object is not subscriptable``); the last test shows it."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import requests

from labkit import LAB_FLAGS, execute, injected_cells, jupyter_lab, kernel_session
from nbprod.registry.lineage import git_info
from projectkit import BIN, PROJECT_FILES, ROOT, build_env, smoke_build

pytestmark = pytest.mark.pipeline

NOTEBOOKS = [f"notebooks/{n}.ipynb" for n in ("ingest", "features", "train", "evaluate",
                                                 "register", "score")]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """A smoke build in a fresh git repository holding the project's committed files."""
    project, home, _ = smoke_build(tmp_path_factory.mktemp("lab"))
    env = dict(build_env(home), GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@example.org",
               GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@example.org")
    for args in (["init", "-q"], ["add", *PROJECT_FILES], ["commit", "-q", "-m", "project"]):
        subprocess.run(["git", *args], cwd=project, env=env, check=True, timeout=60)
    assert git_info(project)["dirty"] is False
    return project, env


def test_a_pipeline_notebook_runs_in_jupyter_and_saves_back_clean(built, tmp_path):
    project, env = built
    committed = {path: (project / path).read_bytes() for path in NOTEBOOKS}
    products = project / "products-smoke"
    model = products / "model" / "model.skops"
    model.unlink()
    with jupyter_lab(project, env, tmp_path) as (url, token):
        assert requests.get(f"{url}/api/contents/notebooks", timeout=10).status_code == 403
        assert requests.get(f"{url}/api/kernels", params={"token": "wrong"},
                            timeout=10).status_code == 403
        auth = {"Authorization": f"token {token}"}
        opened = requests.get(f"{url}/api/contents/notebooks/train.ipynb", headers=auth,
                              timeout=120)
        assert opened.status_code == 200, opened.text
        notebook = opened.json()["content"]
        cells = notebook["cells"]
        (injected,) = injected_cells(cells)
        assert cells.index(injected) == 2  # right below the parameters cell
        assert str(products / "data" / "train.parquet") in injected["source"]
        # injected in memory only: the file is untouched and the contract holds
        assert (project / "notebooks/train.ipynb").read_bytes() == committed["notebooks/train.ipynb"]
        assert nbprod_check(project, env).returncode == 0
        # opening Lab did not make Ploomber forget the last build
        assert (products / "data" / ".train.parquet.metadata").is_file()

        with kernel_session(url, token, "notebooks/train.ipynb") as (ws, session):
            ran = 0
            for cell in cells:
                if cell["cell_type"] == "code":
                    status, errors, cell["outputs"], cell["execution_count"] = execute(
                        ws, session, cell["source"])
                    assert status == "ok", "\n".join(errors)
                    ran += 1
        assert ran == 6  # parameters, injected, and the notebook's four code cells
        assert any(cell["cell_type"] == "code" and cell["outputs"] for cell in cells)

        saved = requests.put(f"{url}/api/contents/notebooks/train.ipynb", headers=auth,
                             timeout=60, json={"type": "notebook", "format": "json",
                                               "content": notebook})
        assert saved.status_code == 200, saved.text
    assert model.is_file() and model.stat().st_size > 1000
    # saved back as committed: no injected cell, outputs or execution counts
    for path in NOTEBOOKS:
        assert (project / path).read_bytes() == committed[path], path
    assert subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=project,
                          capture_output=True, text=True, check=True).stdout == ""
    assert git_info(project) == {"commit": git_info(project)["commit"], "dirty": False}
    check = nbprod_check(project, env)
    assert check.returncode == 0, check.stdout + check.stderr
    # the saved task's products were rewritten in the Lab: the next build runs it again
    assert not (products / "model" / ".model.skops.metadata").exists()
    assert (products / "data" / ".train.parquet.metadata").is_file()


def nbprod_check(project: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "nbprod"), "check"], cwd=project, env=env,
                          capture_output=True, text=True, timeout=120)


def test_make_lab_starts_jupyter_with_the_tested_flags():
    recipe = (ROOT / "Makefile").read_text().split("\nlab:", 1)[1].split("\n\n", 1)[0]
    assert "--ServerApp.ip=127.0.0.1" in recipe and "ploomber nb --inject" not in recipe
    for flag in LAB_FLAGS:
        assert flag in recipe


def test_lab_shows_no_button_that_deploys_to_ploomber_cloud(built, tmp_path):
    """ploomber-extension's "Share Notebook" deploys to Ploomber Cloud; its documented
    setting (showShareNotebook) is off in the project's jupyter/labconfig, which `make lab`
    puts on Jupyter's config path. The real Lab server's settings API says what Lab uses."""
    project, env = built

    def share_button(extra: dict[str, str]) -> bool:
        scratch = tmp_path / ("with" if extra else "without")
        scratch.mkdir()
        with jupyter_lab(project, {**env, **extra}, scratch) as (url, token):
            got = requests.get(f"{url}/lab/api/settings/ploomber-extension:settings",
                               headers={"Authorization": f"token {token}"}, timeout=60)
        assert got.ok, got.text
        answer = got.json()  # what Lab composes: her own setting, else the default (overridden)
        default = answer["schema"]["properties"]["showShareNotebook"]["default"]
        return answer["settings"].get("showShareNotebook", default)

    assert share_button({}) is True  # the extension's own default
    assert share_button({"JUPYTER_CONFIG_PATH": str(project / "jupyter")}) is False
    for makefile in (ROOT / "Makefile", ROOT / "src/nbprod/scaffold/templates/project/Makefile"):
        recipe = makefile.read_text().split("\nlab:", 1)[1].split("\n\n", 1)[0]
        assert "JUPYTER_CONFIG_PATH=$(CURDIR)/jupyter" in recipe, makefile


def test_ploombers_own_extension_answers_500_beside_jupytext(built, tmp_path):
    """The bug `make lab` works around (ploomber 0.23.3, jupytext 1.19.6, jupyter-server
    2.x): Ploomber's contents manager calls jupytext's asynchronous one synchronously.
    Last in this module: that extension also renders with force=True, which makes the
    on_render hook forget the build's metadata."""
    project, env = built
    with jupyter_lab(project, env, tmp_path, flags=("--ServerApp.allow_root=True",)) as (url, token):
        opened = requests.get(f"{url}/api/contents/notebooks/train.ipynb",
                              headers={"Authorization": f"token {token}"}, timeout=120)
    assert opened.status_code == 500
    assert "'coroutine' object is not subscriptable" in (tmp_path / "jupyter.log").read_text()
