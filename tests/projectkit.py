"""Helpers shared by every test tier: a copy of the project in a temporary folder, a
temporary BentoML store, and the real `ploomber build` and `bentoml` CLI run on them.

A plain module (not conftest.py, of which each tier may have its own): tests import
it as ``from projectkit import ...``."""

from __future__ import annotations

import atexit
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import httpx

from nbprod.model.compiling import TOLERANCE

T = TypeVar("T")
#: How far a served answer may be from the fitted model's: the compiled graph answers where
#: its parity on the held-out rows was within this.
SERVED = TOLERANCE
ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
PROJECT_FILES = [
    "pipeline.yaml", "env.yaml", "env.smoke.yaml", "columns.yaml", "trust.yaml", "notebooks", "jupyter",
    "data/raw",
]
#: The reference project's shipped raw data.
RAW = ROOT / "data" / "raw" / "telco_churn.csv.gz"
#: the reference pipeline's tasks, in the order pipeline.yaml runs them
TASKS = ["ingest", "features", "train", "evaluate", "register", "score"]

os.environ["BENTOML_DO_NOT_TRACK"] = "true"
os.environ["PLOOMBER_STATS_ENABLED"] = "false"
# BentoML resolves its store once per process, at first use: point this test process
# at a temporary store before anything touches it, so no test sees a user's ~/bentoml.
# Subprocesses (ploomber build, bentoml serve) get their own temporary stores.
SESSION_STORE = Path(tempfile.mkdtemp(prefix="nbprod-tests-bentoml-"))
os.environ["BENTOML_HOME"] = str(SESSION_STORE)
atexit.register(shutil.rmtree, SESSION_STORE, ignore_errors=True)
# The served model's prediction log defaults to $XDG_STATE_HOME/nbprod/predictions: a
# temporary one, so no test writes into a user's ~/.local/state.
STATE_HOME = Path(tempfile.mkdtemp(prefix="nbprod-tests-state-"))
os.environ["XDG_STATE_HOME"] = str(STATE_HOME)
atexit.register(shutil.rmtree, STATE_HOME, ignore_errors=True)


from nbprod.data.columns import ColumnTable  # noqa: E402  (after the store is pointed at)

#: The reference project's declared table, and its record's fields.
TABLE = ColumnTable.load(ROOT / "columns.yaml")
FEATURES: list[str] = TABLE.features


def copy_project(dest: Path) -> Path:
    """The pipeline's files (not its products) copied to ``dest``."""
    for name in PROJECT_FILES:
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, dest / name, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
        else:
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / name)
    return dest


def build_env(bentoml_home: Path, env_file: str = "env.smoke.yaml") -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        BENTOML_HOME=str(bentoml_home),
        PLOOMBER_ENV_FILENAME=env_file,
        PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}",
    )
    return env


def ploomber_build(project: Path, bentoml_home: Path, *args: str) -> subprocess.CompletedProcess:
    """Run the real `ploomber build` in ``project`` with the smoke parameters."""
    return subprocess.run(
        [str(BIN / "ploomber"), "build", *args],
        cwd=project,
        env=build_env(bentoml_home),
        capture_output=True,
        text=True,
        timeout=600,
    )


def generated_build(project: Path, bentoml_home: Path) -> dict[str, str]:
    """`ploomber build` (smoke parameters) of a project `nbprod new` wrote, its own package
    importable, into the store ``bentoml_home``; its environment. Fails if the build fails."""
    env = build_env(bentoml_home)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(project / "src"),
                                                      os.environ.get("PYTHONPATH")]))
    env.pop("NBPROD_MODEL_TAG", None)
    build = subprocess.run([str(BIN / "ploomber"), "build"], cwd=project, env=env,
                           capture_output=True, text=True, timeout=900)
    assert build.returncode == 0, build.stdout[-4000:] + build.stderr[-4000:]
    return env


def adopted_build(path: Path, *new_args: str) -> tuple[dict[str, str], str]:
    """`nbprod new PATH --notebook ...` (``new_args``), then its `ploomber build` (smoke
    parameters) into a store beside it, its registration copied where `nbprod bento` reads
    it; the build's environment and what `nbprod new` printed. Fails if either fails."""
    result = subprocess.run([str(BIN / "nbprod"), "new", str(path), *new_args],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    env = {**build_env(path.parent / "bentoml-home"), "PYTHONPATH": str(path / "src")}
    build = subprocess.run([str(BIN / "ploomber"), "build"], cwd=path, env=env,
                           capture_output=True, text=True, timeout=900)
    assert build.returncode == 0, build.stdout[-4000:] + build.stderr[-4000:]
    (path / "products/model").mkdir(parents=True)
    shutil.copy2(path / "products-smoke/model/registration.json",
                 path / "products/model/registration.json")
    return env, result.stdout


def record_fields(project: Path) -> tuple[dict, dict[str, str]]:
    """A written project's ``columns.yaml`` and its record's fields (API name -> raw header)."""
    import yaml

    spec = yaml.safe_load((project / "columns.yaml").read_text())
    return spec, {name: c.get("source", name) for name, c in spec["columns"].items()
                  if name != spec["target"]}


def nbprod_bento(project: Path, env: dict[str, str]) -> str:
    """`nbprod bento` in ``project``: the tag of the bento it built."""
    result = subprocess.run([str(BIN / "nbprod"), "bento"], cwd=project, env=env,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout.strip().splitlines()[-1]


def her_executed_answers(notebook: Path, dump: str) -> dict:
    """Her notebook executed as it is (nbclient, in its own folder) plus one cell ``dump``
    that prints a JSON object: that object."""
    import nbformat
    from nbclient import NotebookClient
    from nbformat.v4 import new_code_cell

    nb = nbformat.read(str(notebook), as_version=4)
    nb.cells.append(new_code_cell(dump))
    NotebookClient(nb, timeout=600, resources={"metadata": {"path": str(notebook.parent)}}
                   ).execute()
    return json.loads("".join(o.get("text", "") for o in nb.cells[-1].outputs))


def smoke_build(dest: Path) -> tuple[Path, Path, subprocess.CompletedProcess]:
    """A copy of the project in ``dest``, built once with the smoke parameters into its own
    store (``dest/bentoml-home``): (project, store, the build's result). Fails if it fails."""
    project = copy_project(dest)
    home = project / "bentoml-home"
    result = ploomber_build(project, home)
    assert result.returncode == 0, result.stdout + result.stderr
    return project, home, result


def bentoml_cli(home: Path, *args: str):
    """Run the real `bentoml` CLI against the store at ``home`` and parse its JSON output."""
    result = subprocess.run(
        [str(BIN / "bentoml"), *args, "-o", "json"],
        env={**os.environ, "BENTOML_HOME": str(home)},
        capture_output=True, text=True, timeout=120, check=True,
    )
    return json.loads(result.stdout)


def models_in(home: Path, name: str = "telco_churn") -> list[str]:
    """Tags of the models called ``name`` in the store at ``home`` (none if it does not exist)."""
    if not home.exists():
        return []
    return [m["tag"] for m in bentoml_cli(home, "models", "list", name)]


def tasks_that_ran(output: str) -> set[str]:
    """Task names whose 'Ran?' column is True in ploomber build's summary table."""
    return set(re.findall(r"^(\w+)\s+True\s+[\d.]+", output, re.M))


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now (for a server started just after)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def forget_bentoml_request_metrics() -> None:
    """Unregister BentoML's request metrics from this process's Prometheus registry.

    Each ``Service.to_asgi()`` app registers them at start-up; a second app in the same
    test process would fail with "Duplicated timeseries". Call it before starting one."""
    from prometheus_client import REGISTRY

    for collector, names in list(REGISTRY._collector_to_names.items()):
        if any(name.startswith("bentoml_service_") for name in names):
            REGISTRY.unregister(collector)


def wait_until(predicate: Callable[[], T], timeout: float, message: str | Callable[[], str],
               interval: float = 0.05) -> T:
    """The first truthy value of ``predicate()``, called every ``interval`` seconds.

    After ``timeout`` seconds it fails with ``message``: a string, or a function called then,
    so the failure shows what the wait gave up on (the end of a log, the last count). An
    assertion inside ``predicate`` (a server that exited) fails at once."""
    deadline = time.monotonic() + timeout
    while not (value := predicate()):
        if time.monotonic() >= deadline:
            text = message() if callable(message) else message
            raise AssertionError(f"after {timeout:g} s: {text}")
        time.sleep(interval)
    return value


def wait_for_text(path: Path, needle: str, timeout: float = 10) -> str:
    """The text of ``path`` once it contains ``needle`` (a server's log catching up with the
    requests it answered); fails after ``timeout`` seconds, showing the end of the file."""
    def text() -> str:
        return path.read_bytes().decode(errors="replace")  # a line may be half written

    def found() -> str:
        return t if needle in (t := text()) else ""

    return wait_until(found, timeout, lambda: f"{needle!r} not in {path}:\n{text()[-3000:]}")


def stop(proc: subprocess.Popen, timeout: float = 20) -> None:
    """Terminate a server process, killing it if it does not exit within ``timeout``."""
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def answers(client: httpx.Client, path: str) -> bool:
    """Whether ``GET path`` is 200 now (False while the server does not take connections)."""
    try:
        return client.get(path).status_code == 200
    except httpx.TransportError:
        return False


def _serve(target: str, cwd: Path, env: dict[str, str], bentoml: Path | None,
           port: int) -> tuple[subprocess.Popen, httpx.Client, Path]:
    log = cwd / f"serve-{port}.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [str(bentoml or BIN / "bentoml"), "serve", target, "--host", "127.0.0.1",
             "--port", str(port)],
            cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT,
        )
    return proc, httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30), log


def _wait_ready(proc: subprocess.Popen, client: httpx.Client, log: Path, timeout: float) -> None:
    def ready() -> bool:
        assert proc.poll() is None, f"bentoml serve exited:\n{log.read_text()[-3000:]}"
        return answers(client, "/readyz")

    wait_until(ready, timeout, lambda: f"not ready:\n{log.read_text()[-3000:]}", interval=0.3)


@contextmanager
def bentoml_serve(target: str, cwd: Path, env: dict[str, str], timeout: float = 120,
                  bentoml: Path | None = None, port: int | None = None):
    """`bentoml serve TARGET` on a free loopback port (or ``port``); yields a client once
    /readyz is 200. A free port another process took between being found and being bound
    (other test sessions on the machine) is replaced by another, twice at most."""
    for attempt in range(3):
        proc, client, log = _serve(target, cwd, env, bentoml, port or free_port())
        try:
            _wait_ready(proc, client, log, timeout)
            break
        except AssertionError:
            client.close()
            stop(proc)
            taken = "Address already in use" in log.read_text()
            if port is not None or not taken or attempt == 2:
                raise
    try:
        client.log = log  # type: ignore[attr-defined]
        client.proc = proc  # type: ignore[attr-defined]
        yield client
    finally:
        client.close()
        stop(proc)
