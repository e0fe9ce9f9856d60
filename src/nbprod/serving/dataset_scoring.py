"""Batch scoring of a partitioned data set, here or on a Dask cluster.

A data set is a folder of Parquet (or CSV) files, as a partitioned Parquet data set
is (``year=2026/part-0.parquet`` ...), or a glob of files. Each file is a partition,
scored exactly as :func:`nbprod.serving.batch.score_file` scores it alone (chunk by chunk,
checked against the model's stored feature schema, rows numbered from 0 in the file)
into the same relative path under the output folder, with the suffix ``.parquet``.

With ``scheduler`` (a Dask scheduler address such as ``tcp://10.0.0.5:8786``, or a
``distributed.Client``), every partition is a Dask task. Each worker process loads the
model once from its own BentoML store (``BENTOML_HOME``, the same shared store on a
cluster), sha256-checked as locally, and writes its partition to the output folder,
which must therefore be on storage the workers share. The form that answers (the compiled
graph, or the artifact under ``NBPROD_COMPILED=0``) is the one chosen where
:func:`score_dataset` is called, not by the workers' environment. Without it, the partitions are
scored one after the other in this process.

Nothing partial is left: partitions are written into a temporary folder beside the
output, renamed to it once every partition is scored, and removed if one fails. The
error raised is the one of the first failing partition in path order, which is the one
the local run stops at, so a bad row is reported (file, row, column, value) the same way.
"""

from __future__ import annotations

import glob
import logging
import os
import shutil
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ConfigError, DataFileError
from ..model.onnx_model import OnnxModel
from ..model.trust import Trust, project_trust
from .batch import DEFAULT_CHUNK_ROWS, score_chunks

log = logging.getLogger(__name__)

SUFFIXES = (".parquet", ".csv", ".csv.gz")
ABORT = "_ABORTED"


@dataclass(frozen=True)
class DatasetResult:
    """What scoring a data set did."""

    model: str
    rows: int
    partitions: int
    positives: int
    threshold: float
    output: Path
    scheduler: str | None
    served_from: str = "artifact"  # "compiled" when the model's ONNX graph answered


def partitions(source: str | Path) -> tuple[Path, list[Path]]:
    """(root, files) of a data set: a folder (every data file below it), a glob, or one file.

    ``root`` is what output paths are made relative to. Files come sorted by path.
    """
    text = str(source)
    path = Path(text)
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file() and _is_data(p)
                       and not any(part.startswith((".", "_")) for part in p.relative_to(path).parts))
        root = path
    elif glob.has_magic(text):
        files = sorted(Path(p) for p in glob.glob(text, recursive=True) if _is_data(Path(p)))
        root = Path(os.path.commonpath([p.parent for p in files])) if files else path.parent
    elif path.is_file():
        files, root = [path], path.parent
    else:
        raise DataFileError(text, "no such file, folder or glob match")
    if not files:
        raise DataFileError(text, f"no data file ({', '.join(SUFFIXES)}) in it")
    return root, files


def score_dataset(
    tag: str,
    source: str | Path,
    dest: str | Path,
    scheduler: Any = None,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    threshold: float | None = None,
    keep: list[str] | None = None,
    progress: Callable[[int], None] | None = None,
) -> DatasetResult:
    """Score every partition of ``source`` with model ``tag`` into the folder ``dest``.

    ``scheduler``: a Dask scheduler address or ``distributed.Client`` (None: here).
    ``progress`` is called with the rows of each partition scored.
    """
    from ..registry.store import compiled_enabled, get_model, threshold_of

    root, files = partitions(source)
    dest = Path(dest)
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise ConfigError(f"{dest} already exists; the output of a data set is a new folder")
    stored = get_model(tag)
    exact = str(stored.tag)  # every worker scores with this very version
    if threshold is None:
        threshold = threshold_of(stored)
    if chunk_rows <= 0:
        raise ConfigError(f"chunk size must be positive, got {chunk_rows}")
    staging = dest.with_name(f"{dest.name}.partial-{uuid.uuid4().hex[:8]}")
    jobs = [(str(f), str(staging / _output_name(f.relative_to(root)))) for f in files]
    options = {"chunk_rows": chunk_rows, "threshold": threshold, "keep": list(keep or [])}
    trust = project_trust()  # read here: a Dask worker's folder is not the project's
    model = {"trust": trust, "compiled": compiled_enabled()}  # nor its environment
    staging.mkdir(parents=True)
    try:
        if scheduler is None:
            results = [_score_partition(exact, src, out, str(staging), options, model)
                       for src, out in jobs]
            for r in results:
                if progress is not None:
                    progress(r["rows"])
            address = None
        else:
            results, address = _on_dask(scheduler, exact, jobs, str(staging), options, model,
                                        progress)
        if dest.exists():
            dest.rmdir()
        staging.rename(dest)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    rows = sum(r["rows"] for r in results)
    positives = sum(r["positives"] for r in results)
    served = ", ".join(sorted({r["served_from"] for r in results if "served_from" in r}))
    log.info("scored %d rows in %d partition(s) with %s (%s) -> %s", rows, len(jobs), exact,
             served, dest)
    return DatasetResult(exact, rows, len(jobs), positives, threshold, dest, address,
                         served or "artifact")


def _on_dask(
    scheduler: Any, tag: str, jobs: list[tuple[str, str]], staging: str, options: dict,
    model: dict, progress: Callable[[int], None] | None,
) -> tuple[list[dict], str]:
    """Score each job as a Dask task; wait for all of them before returning or raising."""
    try:
        from distributed import Client, as_completed, wait
    except ImportError:
        raise ConfigError(
            "scoring on a Dask cluster needs the dask extra: pip install 'nbprod[dask]'"
        ) from None
    client = scheduler if isinstance(scheduler, Client) else _connect(Client, scheduler)
    try:
        futures = [client.submit(_score_partition, tag, src, out, staging, options, model,
                                 key=f"nbprod-score-{uuid.uuid4().hex}", pure=False)
                   for src, out in jobs]
        failed = False
        for future in as_completed(futures):
            if future.status == "error":
                if not failed:  # partitions not started yet stop at once
                    Path(staging, ABORT).touch()
                failed = True
            elif progress is not None:
                progress(future.result()["rows"])
        wait(futures)  # every task has finished writing: the folder can go
        for future in futures:  # the first failing partition in path order, as here
            if future.status == "error":
                future.result()
        return [f.result() for f in futures], str(client.scheduler.address)
    finally:
        if client is not scheduler:
            client.close()


def _connect(client_class: Any, address: str) -> Any:
    try:
        return client_class(address, timeout="10s")
    except (OSError, TimeoutError) as exc:
        raise ConfigError(f"cannot reach the Dask scheduler at {address}: {exc}") from None


def _score_partition(tag: str, source: str, dest: str, staging: str, options: dict,
                     model: dict) -> dict:
    """Score one partition with this process's copy of model ``tag`` (a Dask task);
    ``model`` holds the ``trust`` and whether the ``compiled`` graph may answer."""
    if Path(staging, ABORT).exists():
        return {"rows": 0, "positives": 0, "skipped": True}
    answering, schema = _model(tag, model["trust"], model["compiled"])
    result = score_chunks(answering, schema, tag, source, dest, **options)
    served = "compiled" if isinstance(answering, OnnxModel) else "artifact"
    return {"rows": result.rows, "positives": result.positives, "pid": os.getpid(),
            "served_from": served}


_MODELS: dict[tuple[str, str, bool], tuple[Any, Any]] = {}
_LOCK = threading.Lock()
LOADS: list[str] = []  # tags this process loaded (one per model, store and form)


def _model(tag: str, trust: Trust, compiled: bool) -> tuple[Any, Any]:
    """Model ``tag`` (its graph if ``compiled`` allows, else its artifact) and its feature
    schema, loaded (and sha256-checked) once per process."""
    from ..registry.store import bentoml_home, get_model, schema_of, serving_model

    key = (bentoml_home(), tag, compiled)
    with _LOCK:
        if key not in _MODELS:
            stored = get_model(tag)
            _MODELS[key] = (serving_model(stored, trust, compiled), schema_of(stored))
            LOADS.append(tag)
        return _MODELS[key]


def _is_data(path: Path) -> bool:
    return path.name.lower().endswith(SUFFIXES)


def _output_name(relative: Path) -> Path:
    name = relative.name
    for suffix in SUFFIXES[::-1]:
        if name.lower().endswith(suffix):
            name = name[: -len(suffix)]
            break
    return relative.with_name(name + ".parquet")
