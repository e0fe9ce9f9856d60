"""Her notebook run once, top to bottom, at adoption: in a subprocess with this interpreter,
in a temporary folder where her data file sits at the relative path her notebook reads,
matplotlib on Agg.

The run says which fitted models are left at the end and of what type, and checks parity:
her model's answers on her ``X_test`` against the served path (her held-out raw rows ->
the written ``features`` -> the training columns -> her model). A failing cell or a missing
library is refused in at most three lines naming the cell, the line and what to do.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from .notebook_deep import DEEP

__all__ = ["RunResult", "reads", "run_notebook"]


@dataclass(frozen=True)
class RunResult:
    """What the run of her notebook found."""

    #: fitted variable -> its type (``module.Class``)
    models: dict[str, str]
    #: parity of the served path with her model's answers ('' when it holds), and the rows
    parity: str
    rows: int
    #: raw value of the target -> the label her model learnt it as (classifiers)
    classes: list[Any]
    labels: dict[str, Any]
    #: variable -> how it can be passed between tasks (frame, series, array, model, json, other)
    kinds: dict[str, str] | None = None
    #: the raw columns her served path reads (blanked, her held-out answers change)
    reads: list[str] | None = None
    #: the types and functions her model holds that skops does not trust by default
    holds: list[str] | None = None
    #: a target her notebook computes: the raw columns only it is made from, and its values
    #: as [row label, value] of her training and held-out rows
    sources: list[str] = field(default_factory=list)
    target: list[list[Any]] = field(default_factory=list)


def _place_data(work: Path, relative: str, data: Path) -> Path:
    """The folder to run in, so that ``relative`` (her path) names ``data``."""
    depth = Path(relative).parts.count("..")
    cwd = work.joinpath(*(["run"] * (depth + 1)))
    cwd.mkdir(parents=True)
    target = (cwd / relative).resolve()
    if not str(target).startswith(str(work.resolve())):
        raise ConfigError(f"the notebook reads {relative!r}, outside any folder nbprod can "
                          "make; read the file by a relative path, then adopt")
    target.parent.mkdir(parents=True, exist_ok=True)
    os.symlink(data.resolve(), target)
    return cwd


def run_notebook(spec: dict[str, Any], data: Path, relative: str, package: dict[str, str],
                 name: str) -> RunResult:
    """Run the cells in ``spec`` (see :func:`_drive`) with ``package`` (relative path ->
    text) importable as ``name``; raise :class:`ConfigError` for a failing cell."""
    work = Path(tempfile.mkdtemp(prefix="nbprod-adopt-"))
    try:
        cwd = _place_data(work, relative, data)
        for folder in spec.get("folders", []):  # where her cells write files
            (cwd / folder).resolve().mkdir(parents=True, exist_ok=True)
        for rel, text in package.items():
            path = work / "pkg" / name / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        (work / "spec.json").write_text(json.dumps(spec), encoding="utf-8")
        env = {**os.environ, "MPLBACKEND": "Agg", "BENTOML_DO_NOT_TRACK": "true",
               "PYTHONPATH": os.pathsep.join([str(work / "pkg"),
                                               os.environ.get("PYTHONPATH", "")])}
        proc = subprocess.run([sys.executable, "-m", __name__, str(work / "spec.json")],
                              cwd=cwd, env=env, capture_output=True, text=True)
        report_file = work / "report.json"
        if not report_file.is_file():
            tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
            raise ConfigError(f"running the notebook failed outside any cell: {tail}")
        report = json.loads(report_file.read_text())
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if "error" in report:
        raise ConfigError(report["error"])
    return RunResult(report["models"], report["parity"], report["rows"], report["classes"],
                     report["labels"], report.get("kinds", {}), reads=report.get("reads", []),
                     holds=report.get("holds", []), sources=report.get("sources", []),
                     target=report.get("target", []))


# ---- the child process -------------------------------------------------------------------

def _failure(cell: int, exc: BaseException) -> str:
    import traceback

    line = next((f.lineno for f in reversed(traceback.extract_tb(exc.__traceback__))
                 if f.filename == f"<cell {cell}>"), None)
    at = f"cell {cell}, line {line}" if line else f"cell {cell}"
    if isinstance(exc, ModuleNotFoundError):
        return (f"{at}: {exc.name!r} is not installed here; pip install it (the project pins "
                "the version installed), then adopt the notebook again")
    return (f"{at}: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}\n"
            "  the notebook must run top to bottom as it is; fix that cell, then adopt again")


def _type(value: Any) -> str:
    return f"{type(value).__module__}.{type(value).__qualname__}"


def _fitted(value: Any) -> bool:
    if type(value).__module__.split(".")[0] in DEEP or _type(value) == "onnx.onnx_ml_pb2.ModelProto":
        return True
    try:
        from sklearn.utils.validation import check_is_fitted

        check_is_fitted(value)
        return True
    except Exception:
        return False


def _kind(value: Any) -> str:
    """How a value can travel between tasks without running code on load."""
    import json as _json

    import numpy as np
    import pandas as pd

    if isinstance(value, pd.DataFrame):
        return "frame" if all(isinstance(c, str) for c in value.columns) else "other"
    if isinstance(value, pd.Series):
        return "series"
    if isinstance(value, np.ndarray):
        return "array" if value.dtype != object else "other"
    if hasattr(value, "fit") and hasattr(value, "get_params"):
        return "model"
    try:
        _json.dumps(value)
        return "json"
    except (TypeError, ValueError):
        return "other"


def answers_alike(served: Any, records: Any, expected: Any) -> bool:
    """Whether the ``served`` pipeline still answers ``records`` (her held-out rows, one
    column blanked or dropped) as her model did (``expected``); her code failing is not."""
    from nbprod.model.adopted import answers, parity

    try:
        parity(expected, answers(served, records))
    except Exception:  # noqa: BLE001  a different answer, or her code fails without it
        return False
    return True


def reads(served: Any, records: Any, expected: Any) -> list[str]:
    """The columns of ``records`` the ``served`` pipeline reads: with one of them blank on
    every row, its answers are no longer ``expected`` (or it fails)."""
    import numpy as np

    def blank(column: Any) -> Any:
        out = records.copy()
        out[column] = np.nan
        return out

    return [str(column) for column in records.columns
            if not answers_alike(served, blank(column), expected)]


def _parity(ns: dict[str, Any], spec: dict[str, Any],
            report: dict[str, Any]) -> tuple[str, int, dict[str, Any]]:
    """Parity of the served path on her held-out rows; ``report`` gets the raw columns the
    served path reads and, when her notebook computes her target, the columns it is made
    from and her target's values (by row)."""
    import importlib

    import pandas as pd

    from nbprod.model.adopted import ParityError, answers, parity, served_pipeline

    flow = spec["flow"]
    model, X_test, X_train = ns[spec["model"]], ns[flow["X_test"]], ns[flow["X_train"]]
    raw = eval(flow["read"], ns)  # her own read call, as she wrote it  # noqa: S307
    module = importlib.import_module(f"{spec['package']}.features")
    features, statistics = module.features, getattr(module, "statistics", None)
    rows = raw.loc[X_test.index]
    labels: dict[str, Any] = {}
    target = flow["target"]
    y_test = ns.get(flow["y_test"])
    if target in rows.columns and isinstance(y_test, pd.Series):
        pairs = pd.DataFrame({"raw": rows[target].astype(str), "y": y_test.values})
        labels = {str(k): v.item() if hasattr(v, "item") else v
                  for k, v in pairs.drop_duplicates("raw").set_index("raw")["y"].items()}
    try:  # her statistics, on the frame she read, as the train task fits them
        served = served_pipeline(model, features, X_train, raw_order=list(raw.columns),
                                 statistics=statistics, raw=raw)
    except Exception as exc:
        return (f"her statistics(df) fails on the file she read: {type(exc).__name__}: "
                f"{str(exc).splitlines()[0][:160] if str(exc) else ''}"), len(rows), labels
    expected = answers(model, X_test)
    if target not in rows.columns:
        report["sources"] = _sources(served, rows, expected, flow)
        report["target"] = _her_target(ns, flow, X_train, X_test)
    records = rows.drop(columns=[target, *report.get("sources", [])], errors="ignore")
    try:
        parity(expected, answers(served, records))
    except ParityError as exc:
        return str(exc), len(rows), labels
    except Exception as exc:  # her feature code on raw rows
        return f"the served path fails on her held-out raw rows: {type(exc).__name__}: {exc}", \
            len(rows), labels
    try:  # the service answers one record at a time, not her whole held-out batch
        parity(expected.iloc[:1], answers(served, records.iloc[:1]), where="one record alone")
    except ParityError as exc:
        return str(exc), len(rows), labels
    except Exception as exc:
        return (f"one record alone: row {_plain(records.index[0])!r}: the served path fails: "
                f"{type(exc).__name__}: {str(exc).splitlines()[0][:120]}"), len(rows), labels
    report["reads"] = reads(served, records, expected)
    return "", len(rows), labels


def _holds(model: Any) -> list[str]:
    import skops.io as sio

    from nbprod.model.artifacts import dumps

    try:
        return sorted(sio.get_untrusted_types(data=dumps(model)))
    except Exception:  # noqa: BLE001  the build names what skops cannot store
        return []


def _sources(served: Any, rows: Any, expected: Any, flow: dict[str, Any]) -> list[str]:
    """The candidate columns her computed target is made from that her features do not
    need: without each, the served path still answers her held-out rows as her model."""
    return [column for column in flow.get("sources", [])
            if answers_alike(served, rows.drop(columns=[column]), expected)]


def _her_target(ns: dict[str, Any], flow: dict[str, Any], X_train: Any, X_test: Any
                ) -> list[list[Any]]:
    """[row label, her target's value] of her training and held-out rows."""
    import numpy as np

    pairs = []
    for X, y in ((X_train, ns.get(flow["y_train"])), (X_test, ns.get(flow["y_test"]))):
        if y is not None and len(y) == len(X):
            pairs += [[_plain(i), _plain(v)] for i, v in zip(X.index, np.asarray(y), strict=True)]
    return pairs


def _plain(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value


def _drive(spec_file: str) -> None:
    spec = json.loads(Path(spec_file).read_text())
    out = Path(spec_file).with_name("report.json")
    ns: dict[str, Any] = {"__name__": "__main__"}
    try:  # what a Jupyter kernel gives every cell
        from IPython.display import display

        ns["display"] = display
    except ImportError:
        ns["display"] = print
    for number, source in spec["cells"]:
        try:
            exec(compile(source, f"<cell {number}>", "exec"), ns)  # noqa: S102
        except BaseException as exc:  # noqa: BLE001  her cell, whatever it raised
            out.write_text(json.dumps({"error": _failure(number, exc)}))
            return
    models = {v: _type(ns[v]) for v in spec["fitted"] if v in ns and _fitted(ns[v])}
    report: dict[str, Any] = {"models": models, "parity": "", "rows": 0, "classes": [],
                              "labels": {}, "reads": []}
    model = spec.get("model")
    if model in models and spec.get("flow") and models[model].split(".")[0] not in DEEP:
        report["classes"] = [c.item() if hasattr(c, "item") else c
                             for c in getattr(ns[model], "classes_", [])]
        report["parity"], report["rows"], report["labels"] = _parity(ns, spec, report)
        report["holds"] = _holds(ns[model])
    report["kinds"] = {v: _kind(ns[v]) for v in spec.get("names", []) if v in ns}
    out.write_text(json.dumps(report, default=str))


if __name__ == "__main__":
    _drive(sys.argv[1])
