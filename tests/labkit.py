"""A real `jupyter lab` for the tests, started as `make lab` starts it: loopback only, a free
port, a random token, the project's folder as its root."""

from __future__ import annotations

import contextlib
import secrets
import subprocess
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
