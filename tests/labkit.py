"""A real `jupyter lab` for the tests, started as `make lab` starts it: loopback only, a free
port, a random token, the project's folder as its root."""

from __future__ import annotations

import contextlib
import json
import secrets
import subprocess
import uuid
from datetime import UTC, datetime
from pathlib import Path

import requests

from nbprod.pipeline.lab import SERVER_FLAGS
from projectkit import BIN, ROOT, free_port, stop, wait_until

#: The flags of `make lab` (Makefile) beyond the port, token and root folder.
LAB_FLAGS = [*SERVER_FLAGS, "--ServerApp.allow_root=True"]
#: Where `make lab` has JupyterLab find the nbprod panel's prebuilt front end (an editable
#: install has no data files; a wheel puts it in share/jupyter/labextensions/nbprod).
PREBUILT = ROOT / "labextension" / "prebuilt"
PANEL_FLAGS = [*LAB_FLAGS, f"--LabApp.extra_labextensions_path={PREBUILT}"]


@contextlib.contextmanager
def jupyter_lab(root: Path, env: dict[str, str], scratch: Path, flags=tuple(LAB_FLAGS)):
    """`jupyter lab` as `make lab` starts it, on a free loopback port with a token."""
    port, token = free_port(), secrets.token_hex(24)
    env = dict(env, JUPYTER_CONFIG_DIR=str(scratch / "config"), JUPYTER_DATA_DIR=str(scratch / "data"),
               JUPYTER_RUNTIME_DIR=str(scratch / "runtime"), IPYTHONDIR=str(scratch / "ipython"))
    log = open(scratch / "jupyter.log", "w")
    proc = subprocess.Popen(
        [str(BIN / "jupyter"), "lab", "--ServerApp.ip=127.0.0.1", "--ServerApp.open_browser=False",
         f"--ServerApp.root_dir={root}", f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
         f"--IdentityProvider.token={token}", *flags],
        cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        def ready() -> bool:
            assert proc.poll() is None, (scratch / "jupyter.log").read_text()
            try:
                return requests.get(f"{url}/api/status", params={"token": token}, timeout=5).ok
            except requests.ConnectionError:
                return False

        wait_until(ready, 90, lambda: (scratch / "jupyter.log").read_text(), interval=0.3)
        yield url, token
    finally:
        stop(proc)
        log.close()


@contextlib.contextmanager
def kernel_session(url: str, token: str, path: str):
    """A kernel session on the notebook ``path`` (as JupyterLab opens one) and its channels'
    websocket: (websocket, session id), closed on exit."""
    import websocket

    session = requests.post(f"{url}/api/sessions", timeout=60,
                            headers={"Authorization": f"token {token}"},
                            json={"path": path, "name": Path(path).name, "type": "notebook",
                                  "kernel": {"name": "python3"}}).json()
    ws = websocket.create_connection(
        f"ws://{url.removeprefix('http://')}/api/kernels/{session['kernel']['id']}/channels",
        header=[f"Authorization: token {token}"], timeout=240)
    try:
        yield ws, session["id"]
    finally:
        ws.close()


def execute(ws, session: str, code: str) -> tuple[str, list[str], list[dict], int]:
    """Run ``code`` in the kernel behind ``ws``: (reply status, error tracebacks, the
    outputs JupyterLab would keep, execution count)."""
    msg_id = uuid.uuid4().hex
    ws.send(json.dumps({
        "header": {"msg_id": msg_id, "msg_type": "execute_request", "username": "test",
                   "session": session, "version": "5.3", "date": datetime.now(UTC).isoformat()},
        "parent_header": {}, "metadata": {}, "buffers": [], "channel": "shell",
        "content": {"code": code, "silent": False, "store_history": True,
                    "user_expressions": {}, "allow_stdin": False, "stop_on_error": True},
    }))
    status, errors, outputs, count, idle = None, [], [], None, False
    while status is None or not idle:
        raw = ws.recv()
        if isinstance(raw, bytes):
            continue
        msg = json.loads(raw)
        if msg.get("parent_header", {}).get("msg_id") != msg_id:
            continue
        kind = msg["header"]["msg_type"]
        content = msg["content"]
        if kind == "error":
            errors.append("\n".join(content["traceback"]))
        elif kind == "stream":
            outputs.append({"output_type": "stream", "name": content["name"],
                            "text": content["text"]})
        elif kind in ("execute_result", "display_data"):
            outputs.append({"output_type": kind, "data": content["data"], "metadata": {},
                            **({"execution_count": content["execution_count"]}
                               if kind == "execute_result" else {})})
        elif kind == "execute_reply":
            status, count = content["status"], content.get("execution_count")
        elif kind == "status" and msg["content"]["execution_state"] == "idle":
            idle = True
    return status, errors, outputs, count


def injected_cells(cells) -> list:
    return [c for c in cells if "injected-parameters" in c["metadata"].get("tags", [])]
