"""``nbprod new --notebook``: her notebook read, analysed and run once, her code written into
her package, the served path's parity with her model checked, or a refusal in at most three
lines naming the cell, the line and what to do.

:func:`adopt` does the reading and checking and returns an :class:`Adoption`; nothing is
written to her disk until it succeeds.
"""

from __future__ import annotations

import ast
import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import ConfigError
from .infer import read_data
from .notebook_code import (
    features_module,
    fitted_in_transform,
    notebook_module,
    training_only_notes,
)
from .notebook_deep import (
    deep_imports,
    deep_library,
    model_refusal,
    refuse_missing_deep_imports,
)
from .notebook_flow import Flow, analyse, fitted_variables
from .notebook_run import RunResult, run_notebook
from .notebook_source import Cell, read_notebook
from .notebook_split import _reads_and_writes
from .notebook_target import target_sources

__all__ = ["Adoption", "adopt"]


@dataclass(frozen=True)
class Adoption:
    """Her notebook, understood: its flow, the package files, what the run found."""

    notebook: Path
    cells: list[Cell]
    flow: Flow
    run: RunResult
    target: str
    package: dict[str, str]
    sha256: str
    notes: list[str] = field(default_factory=list)

    @property
    def data_path(self) -> str:
        """The relative path her notebook reads the data file by."""
        return _path_literal(self.flow)


def _path_literal(flow: Flow) -> str:
    for sub in ast.walk(flow.read.node):
        if isinstance(sub, ast.Constant) and isinstance(sub.value, str) and sub.value.endswith(
                Path(sub.value).name) and "." in sub.value:
            return sub.value
    raise ConfigError(f"{flow.read.where}: no file path in the read call")


def _read_expression(flow: Flow) -> str:
    """Her read call's source (``pd.read_csv('data/x.csv', sep=';')``)."""
    value = getattr(flow.read.node, "value", None)
    if value is None:
        raise ConfigError(f"{flow.read.where}: read the data with an assignment "
                          "(df = pd.read_csv(...)), then adopt")
    return ast.unparse(value)


def choose_model(cells: list[Cell], model: str | None) -> str:
    """``--model``, or the one variable her notebook fits; refused when it is ambiguous."""
    fitted = fitted_variables(cells)
    if model is not None:
        if not model.isidentifier():
            raise ConfigError(f"--model {model!r} is not a variable name")
        return model
    if len(fitted) == 1:
        return fitted[0]
    if not fitted:
        raise ConfigError("the notebook fits no model (no VAR.fit(X, y)); fit one, or "
                          "name its variable with --model")
    raise ConfigError(f"the notebook fits several models ({', '.join(fitted)}); name the one "
                      "to serve with --model")


def _target(flow: Flow, cells: list[Cell], given: str | None) -> str:
    """The column her ``y`` was taken from: ``y = df['status']`` -> ``status``."""
    if given is not None:
        return given
    stmts = [s for c in cells for s in c.tree().body]
    y_names = {flow.y_train}
    grown = True
    while grown:  # y_train <- y_train_full <- y, through each split
        grown = False
        for node in stmts:
            if not (isinstance(node, ast.Assign) and isinstance(node.value, ast.Call)):
                continue
            outs = [getattr(e, "id", "") for t in node.targets for e in getattr(t, "elts", [])]
            for name in set(outs) & y_names:
                at = outs.index(name) // 2
                arg = node.value.args[at] if len(node.value.args) > at else None
                if isinstance(arg, ast.Name) and arg.id not in y_names:
                    y_names.add(arg.id)
                    grown = True
    for node in stmts:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", "") in y_names
                                                for t in node.targets):
            for sub in ast.walk(node.value):
                if (isinstance(sub, ast.Subscript) and isinstance(sub.slice, ast.Constant)
                        and isinstance(sub.slice.value, str)):
                    return sub.slice.value
    raise ConfigError(f"cannot tell which column {flow.y_train} comes from; give --target")


def package_files(flow: Flow, notebook: str) -> dict[str, str]:
    """``notebook.py`` and ``features.py`` of her package (relative to ``src/<pkg>/``)."""
    return {"__init__.py": "", "notebook.py": notebook_module(flow, notebook),
            "features.py": features_module(flow, notebook)}


def adopt(notebook: str | Path, data: str | Path, model: str | None = None,
          target: str | None = None, name: str = "project") -> Adoption:
    """Read, analyse and run her notebook for ``data``; raise :class:`ConfigError` (three
    lines at most) when it cannot be adopted."""
    notebook, data = Path(notebook), Path(data)
    if not data.is_file():
        raise ConfigError(f"--data {data}: no such file")
    cells = read_notebook(notebook)
    refuse_missing_deep_imports(cells)
    chosen = choose_model(cells, model)
    try:
        flow = analyse(cells, data.name, chosen)
    except ConfigError:  # a network is fitted unlike a scikit-learn model: say what it is
        _refuse_deep_model(cells, data, chosen, name)
        raise
    column = _target(flow, cells, target)
    flow = analyse(cells, data.name, chosen, column)
    sources = target_sources(cells, column, read_data(data).columns)
    files = package_files(flow, notebook.name)
    written = sorted(set().union(*(_reads_and_writes(c)[1] for c in cells)))
    spec_folders = output_folders(cells, _path_literal(flow))
    spec = {"cells": [[c.number, c.source] for c in cells], "fitted": fitted_variables(cells),
            "names": written, "folders": spec_folders,
            "model": chosen, "package": name,
            "flow": {"X_test": flow.X_test, "X_train": flow.X_train, "read": _read_expression(flow),
                     "target": column, "y_test": _y_test(flow), "y_train": flow.y_train,
                     "sources": sources}}
    run = run_notebook(spec, data, _path_literal(flow), {k: v for k, v in files.items()}, name)
    _check_model(run, chosen)
    if run.parity:
        fitted = fitted_in_transform(flow)
        if fitted:
            raise ConfigError(f"parity: {run.parity}\n  {fitted}")
        notes = "; ".join(training_only_notes(flow)[:2])
        raise ConfigError(f"parity: {run.parity}" + (f"\n  left out of the served features: "
                                                     f"{notes}" if notes else ""))
    return Adoption(notebook, cells, flow, run, column, files,
                    hashlib.sha256(notebook.read_bytes()).hexdigest(),
                    training_only_notes(flow))


def output_folders(cells: list[Cell], data_path: str) -> list[str]:
    """The folders of the relative file paths her cells name (``'../models/m.json'`` ->
    ``../models``), other than her data file's: they exist beside her notebook, and must
    where it runs. Only folders that stay within two levels above the notebook."""
    out = set()
    for cell in cells:
        for node in ast.walk(cell.tree()):
            if (isinstance(node, ast.Constant) and isinstance(node.value, str)
                    and node.value != data_path and "/" in node.value
                    and "\n" not in node.value and len(node.value) < 200):
                path = Path(node.value)
                if (not path.is_absolute() and path.suffix and path.parent != Path(".")
                        and path.parts.count("..") <= 2 and "://" not in node.value):
                    out.add(path.parent.as_posix())
    return sorted(out)


def _y_test(flow: Flow) -> str:
    outs = [getattr(e, "id", "") for e in flow.split.node.targets[0].elts]  # type: ignore[attr-defined]
    return outs[-1] if len(outs) == 4 else ""


def _check_model(run: RunResult, model: str) -> None:
    kind = run.models.get(model)
    if kind is None:
        raise ConfigError(f"--model {model}: not a fitted model at the end of the notebook "
                          f"(fitted: {', '.join(run.models) or 'none'})")
    if deep_library(kind):
        raise ConfigError(model_refusal(model, kind))


def _refuse_deep_model(cells: list[Cell], data: Path, model: str, name: str) -> None:
    """When her notebook imports a deep-learning library, run it to see whether ``model`` is
    one of its models, and refuse it if so."""
    relative = next((node.value for c in cells for node in ast.walk(c.tree())
                     if isinstance(node, ast.Constant) and isinstance(node.value, str)
                     and Path(node.value).name == data.name), None)
    if not deep_imports(cells) or relative is None:
        return
    spec = {"cells": [[c.number, c.source] for c in cells], "fitted": [model], "names": [],
            "folders": output_folders(cells, relative), "model": model, "package": name}
    kind = run_notebook(spec, data, relative, {}, name).models.get(model, "")
    if deep_library(kind):
        raise ConfigError(model_refusal(model, kind))


def summary_lines(adoption: Adoption) -> list[str]:
    """What the adoption found, for the CLI."""
    flow, run = adoption.flow, adoption.run
    lines = [f"model     {flow.model} ({adoption.run.models[flow.model]}), target "
             f"{adoption.target}, fitted on {flow.X_train}",
             f"parity    the served path answers her {run.rows} held-out rows ({flow.X_test}) "
             "as her model does",
             f"features  {len(flow.steps)} statement(s) of hers -> features(df)"]
    keys = [s for s in flow.statistics if s.source.startswith(f"{flow.stats_name}[")]
    if keys:  # statistics(df): fitted once, the values kept in the served model
        lines[-1] = lines[-1].replace("features(df)", f"features(df, {flow.stats_name})")
        lines += [f"  {s.where}: {ast.unparse(s.node.value)}: computed at training, "  # type: ignore[attr-defined]
                  "kept in the fitted model, used for every record" for s in keys]
    if run.target:
        lines.append(f"target    {adoption.target} is computed by her notebook; the records leave "
                     f"out the columns only it is made from: {', '.join(run.sources) or 'none'}")
    lines += [f"  {note}" for note in adoption.notes]
    if flow.fitted_on_all:
        lines.append(f"  note: {flow.model} was fitted on every row of {flow.X_train}, "
                     f"{flow.X_test}'s rows included: parity holds on them, but its held-out "
                     "metrics are optimistic")
    return lines
