"""The JupyterLab loop with real parts: a smoke build, `ploomber nb --inject`, then
`jupyter lab` started as `make lab` starts it, on a free loopback port with a token; a
pipeline notebook runs cell by cell through the server's kernel API (REST + websocket,
as JupyterLab does) and writes its product; `nbprod check --fix` takes the injected
cell out again.

Ploomber's own Jupyter contents manager (a server extension ploomber installs) is
switched off: with jupytext's async contents manager it answers 500 to every notebook
opened (``'coroutine' object is not subscriptable``), measured with these pins."""

from __future__ import annotations

import contextlib
import json
import secrets
import subprocess
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests
import websocket

from projectkit import BIN, ROOT, build_env, free_port, smoke_build, stop

pytestmark = pytest.mark.pipeline

#: The flags of `make lab` (Makefile) beyond the port, token and root folder.
LAB_FLAGS = ["--ServerApp.jpserver_extensions=ploomber=False", "--ServerApp.allow_root=True"]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    project, home, _ = smoke_build(tmp_path_factory.mktemp("lab"))
    return project, build_env(home)


@contextlib.contextmanager
def jupyter_lab(root: Path, env: dict[str, str], scratch: Path):
    """`jupyter lab` as `make lab` starts it, on a free loopback port with a token."""
    port, token = free_port(), secrets.token_hex(24)
    env = dict(env, JUPYTER_CONFIG_DIR=str(scratch / "config"), JUPYTER_DATA_DIR=str(scratch / "data"),
               JUPYTER_RUNTIME_DIR=str(scratch / "runtime"), IPYTHONDIR=str(scratch / "ipython"))
    log = open(scratch / "jupyter.log", "w")
    proc = subprocess.Popen(
        [str(BIN / "jupyter"), "lab", "--ServerApp.ip=127.0.0.1", "--ServerApp.open_browser=False",
         f"--ServerApp.root_dir={root}", f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
         f"--IdentityProvider.token={token}", *LAB_FLAGS],
        cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            assert proc.poll() is None, (scratch / "jupyter.log").read_text()
            try:
                if requests.get(f"{url}/api/status", params={"token": token}, timeout=5).ok:
                    break
            except requests.ConnectionError:
                pass
            assert time.monotonic() < deadline, (scratch / "jupyter.log").read_text()
            time.sleep(0.3)
        yield url, token
    finally:
        stop(proc)
        log.close()


def execute(ws, session: str, code: str) -> tuple[str, list[str]]:
    """Run ``code`` in the kernel behind ``ws``; (reply status, error tracebacks)."""
    msg_id = uuid.uuid4().hex
    ws.send(json.dumps({
        "header": {"msg_id": msg_id, "msg_type": "execute_request", "username": "test",
                   "session": session, "version": "5.3", "date": datetime.now(UTC).isoformat()},
        "parent_header": {}, "metadata": {}, "buffers": [], "channel": "shell",
        "content": {"code": code, "silent": False, "store_history": True,
                    "user_expressions": {}, "allow_stdin": False, "stop_on_error": True},
    }))
    status, errors, idle = None, [], False
    while status is None or not idle:
        raw = ws.recv()
        if isinstance(raw, bytes):
            continue
        msg = json.loads(raw)
        if msg.get("parent_header", {}).get("msg_id") != msg_id:
            continue
        kind = msg["header"]["msg_type"]
        if kind == "error":
            errors.append("\n".join(msg["content"]["traceback"]))
        elif kind == "execute_reply":
            status = msg["content"]["status"]
        elif kind == "status" and msg["content"]["execution_state"] == "idle":
            idle = True
    return status, errors


def test_a_pipeline_notebook_runs_in_jupyter_as_it_is(built, tmp_path):
    project, env = built
    inject = subprocess.run([str(BIN / "ploomber"), "nb", "--inject"], cwd=project, env=env,
                            capture_output=True, text=True, timeout=300)
    assert inject.returncode == 0, inject.stdout + inject.stderr
    check = subprocess.run([str(BIN / "nbprod"), "check"], cwd=project, env=env,
                           capture_output=True, text=True, timeout=120)
    assert check.returncode == 1
    assert "notebooks/train.ipynb:3 NB005 an injected-parameters cell is committed" in check.stdout

    model = project / "products-smoke" / "model" / "model.skops"
    model.unlink()
    with jupyter_lab(project, env, tmp_path) as (url, token):
        assert requests.get(f"{url}/api/contents/notebooks", timeout=10).status_code == 403
        assert requests.get(f"{url}/api/kernels", params={"token": "wrong"},
                            timeout=10).status_code == 403
        auth = {"Authorization": f"token {token}"}
        opened = requests.get(f"{url}/api/contents/notebooks/train.ipynb", headers=auth,
                              timeout=60)
        assert opened.status_code == 200, opened.text
        cells = opened.json()["content"]["cells"]
        (injected,) = injected_cells(cells)
        assert str(project / "products-smoke" / "data" / "train.parquet") in injected["source"]

        session = requests.post(f"{url}/api/sessions", headers=auth, timeout=60, json={
            "path": "notebooks/train.ipynb", "name": "train.ipynb", "type": "notebook",
            "kernel": {"name": "python3"}}).json()
        ws = websocket.create_connection(
            f"ws://{url.removeprefix('http://')}/api/kernels/{session['kernel']['id']}/channels",
            header=[f"Authorization: token {token}"], timeout=240)
        try:
            ran = 0
            for cell in cells:
                if cell["cell_type"] == "code":
                    status, errors = execute(ws, session["id"], cell["source"])
                    assert status == "ok", "\n".join(errors)
                    ran += 1
        finally:
            ws.close()
        assert ran == 6  # parameters, injected, and the notebook's four code cells
    assert model.is_file() and model.stat().st_size > 1000

    fix = subprocess.run([str(BIN / "nbprod"), "check", "--fix"], cwd=project, env=env,
                         capture_output=True, text=True, timeout=120)
    assert fix.returncode == 0, fix.stdout + fix.stderr
    assert "fixed notebooks/train.ipynb: removed 0 output(s), 0 execution count(s), " \
           "1 injected cell(s)" in fix.stdout
    for name in ("ingest", "features", "train", "evaluate", "register"):
        path = f"notebooks/{name}.ipynb"
        assert (project / path).read_text() == (ROOT / path).read_text(), path


def injected_cells(cells) -> list:
    return [c for c in cells if "injected-parameters" in c["metadata"].get("tags", [])]


def test_make_lab_starts_jupyter_with_the_tested_flags():
    recipe = (ROOT / "Makefile").read_text().split("\nlab:", 1)[1].split("\n\n", 1)[0]
    assert "ploomber nb --inject" in recipe and "--ServerApp.ip=127.0.0.1" in recipe
    for flag in LAB_FLAGS:
        assert flag in recipe
