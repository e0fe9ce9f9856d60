"""What her notebook does, read from its code (``ast``), never run: where it reads the data
file, which frame holds the raw rows, how its model was fitted and split, and the statements
between the raw frame and the model's input.

The statements that change the raw frame are sorted into the feature steps (row by row:
``.map({...})``, ``pd.get_dummies``, derived columns, ``astype``, dates to parts, a frame
built with ``pd.DataFrame({...})`` from her columns, its target entry left out), which the
service runs too, and the training-only ones (they filter rows, use the target or aggregate
the whole frame), each with its cell, line and reason. A step that uses a statistic of her
frame (``df['c'].median()``) is served with the statistic kept from training
(:mod:`.notebook_stats`).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import cast

from ..errors import ConfigError
from .notebook_rules import every_dummy, frame_value, rowwise, without_target
from .notebook_rules import reason as why_training_only
from .notebook_source import Cell
from .notebook_statements import Statement, statements
from .notebook_statements import bound as _bound
from .notebook_statements import names as _names
from .notebook_statements import written as _written
from .notebook_stats import freeze, key_assignment, unused_name

__all__ = ["Flow", "Statement", "analyse", "statements"]

READERS = frozenset({"read_csv", "read_excel", "read_parquet", "read_json", "read_table",
                     "read_feather"})


@dataclass
class Flow:
    """Her notebook's data flow, around one model variable."""

    model: str
    raw: str
    read: Statement
    X_train: str
    y_train: str
    X: str
    X_test: str
    split: Statement
    #: the frame the model's input is taken from (the raw frame after her steps)
    frame: str
    split_literals: dict[str, ast.Constant] = field(default_factory=dict)
    steps: list[Statement] = field(default_factory=list)
    training_only: list[tuple[Statement, str]] = field(default_factory=list)
    helpers: list[Statement] = field(default_factory=list)
    definitions: list[Statement] = field(default_factory=list)
    imports: list[Statement] = field(default_factory=list)
    #: her model was fitted on every row of X, the held-out rows of her split included
    fitted_on_all: bool = False
    #: her ``X = ...`` expression when it builds columns (``pd.get_dummies``), not selects them
    x_value: str = ""
    #: the body of ``statistics(df)``: her statements up to the last statistic of her frame a
    #: feature step uses, each statistic assigned to ``stats_name[key]`` (notebook_stats)
    statistics: list[Statement] = field(default_factory=list)
    stats_name: str = ""


def _read_call(node: ast.stmt, data_name: str) -> ast.Call | None:
    for sub in ast.walk(node):
        if (isinstance(sub, ast.Call) and isinstance(sub.func, ast.Attribute)
                and sub.func.attr in READERS):
            args = [*sub.args[:1], *(k.value for k in sub.keywords
                                      if k.arg in ("filepath_or_buffer", "io", "path"))]
            for arg in args:
                if (isinstance(arg, ast.Constant) and isinstance(arg.value, str)
                        and arg.value.replace("\\", "/").rsplit("/", 1)[-1] == data_name):
                    return sub
    return None


def _fits(stmts: list[Statement]) -> dict[str, tuple[ast.Call, Statement]]:
    """model variable -> its last ``VAR.fit(X, y)`` (or ``VAR = Model().fit(X, y)``) call."""
    out = {}
    for stmt in stmts:
        node = stmt.node
        if (isinstance(node, ast.Assign) and len(node.targets) == 1
                and isinstance(node.targets[0], ast.Name) and isinstance(node.value, ast.Call)
                and isinstance(node.value.func, ast.Attribute)
                and node.value.func.attr == "fit" and len(node.value.args) >= 2):
            out[node.targets[0].id] = (node.value, stmt)  # m = Model(...).fit(X, y)
            if isinstance(node.value.func.value, ast.Name):  # history = model.fit(X, y)
                out.setdefault(node.value.func.value.id, (node.value, stmt))
            continue
        for sub in ast.walk(node):
            if (isinstance(sub, ast.Call) and isinstance(sub.func, ast.Attribute)
                    and sub.func.attr == "fit" and isinstance(sub.func.value, ast.Name)
                    and len(sub.args) >= 2):
                out[sub.func.value.id] = (sub, stmt)
    return out


def fitted_variables(cells: list[Cell]) -> list[str]:
    """Every variable her notebook calls ``.fit(X, y)`` on, in order."""
    return list(_fits(statements(cells)))


def _arg_name(call: ast.Call, i: int, what: str, stmt: Statement) -> str:
    arg = call.args[i]
    if not isinstance(arg, ast.Name):
        raise ConfigError(f"{stmt.where}: the model is fitted on an expression for {what}; "
                          f"assign it to a variable first (X_train = ...), then adopt")
    return arg.id


def _split(stmts: list[Statement], X_train: str) -> tuple[Statement, list[str], ast.Call]:
    for stmt in reversed(stmts):  # the split nearest before the fit
        node = stmt.node
        if (isinstance(node, ast.Assign) and isinstance(node.value, ast.Call)
                and isinstance(node.targets[0], (ast.Tuple, ast.List))):
            func = node.value.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            outs = [getattr(e, "id", "") for e in node.targets[0].elts]
            if name == "train_test_split" and X_train in outs:
                return stmt, outs, node.value
    raise ConfigError(f"no train_test_split(...) assigns {X_train}; the held-out rows are what "
                      "parity is checked on: split with train_test_split, then adopt")


def _split_of(stmts: list[Statement], X: str) -> tuple[Statement, list[str], ast.Call] | None:
    """The last ``train_test_split(X, ...)`` of the frame a model was fitted on whole."""
    found = None
    for stmt in stmts:
        node = stmt.node
        if (isinstance(node, ast.Assign) and isinstance(node.value, ast.Call)
                and isinstance(node.targets[0], (ast.Tuple, ast.List)) and node.value.args
                and isinstance(node.value.args[0], ast.Name) and node.value.args[0].id == X):
            func = node.value.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name == "train_test_split":
                found = (stmt, [getattr(e, "id", "") for e in node.targets[0].elts], node.value)
    return found


def analyse(cells: list[Cell], data_name: str, model: str, target: str | None = None) -> Flow:
    """Her notebook's flow around ``model`` for the data file named ``data_name``."""
    stmts = statements(cells)
    read_at = next((i for i, s in enumerate(stmts) if _read_call(s.node, data_name)), None)
    if read_at is None:
        raise ConfigError(f"the notebook reads no file named {data_name!r} "
                          "(pd.read_csv('.../NAME') or another pandas reader); give --data the "
                          "file the notebook reads")
    read = stmts[read_at]
    raw = sorted(_written(read.node))
    if len(raw) != 1:
        raise ConfigError(f"{read.where}: read the data file into one variable "
                          "(df = pd.read_csv(...)), then adopt")
    fits = _fits(stmts)
    if model not in fits:
        raise ConfigError(f"--model {model}: the notebook never calls {model}.fit(X, y); "
                          f"fitted here: {', '.join(fits) or 'nothing'}")
    call, fit_stmt = fits[model]
    X_train = _arg_name(call, 0, "X", fit_stmt)
    y_train = _arg_name(call, 1, "y", fit_stmt)
    try:
        split, outs, split_call = _split(stmts[:stmts.index(fit_stmt) + 1], X_train)
        on_all = False
    except ConfigError:  # model.fit(X, y) on every row, after a split of that same X
        found = _split_of(stmts, X_train)
        if found is None:
            raise
        split, outs, split_call = found
        outs, on_all = [X_train, *outs[1:]], True
    first_arg = split_call.args[0] if split_call.args else None
    X = first_arg.id if isinstance(first_arg, ast.Name) else ""
    while True:  # X_train_full, X_test = split(X, ...); X_train, X_val = split(X_train_full)
        try:
            _, _, outer = _split(stmts[:stmts.index(split)], X)
        except ConfigError:
            break
        first = outer.args[0] if outer.args else None
        if not isinstance(first, ast.Name):
            break
        X = first.id
    pairs = len(outs) // 2
    X_test = outs[outs.index(X_train) + 1] if pairs else ""
    split_at = stmts.index(split)
    x_at = max((i for i, s in enumerate(stmts[:split_at]) if X in _written(s.node)), default=None)
    if not X and first_arg is not None and split_at > read_at:  # split(df.drop('y', axis=1))
        x_at, X = split_at, ast.unparse(first_arg)
    if x_at is None or x_at < read_at:
        raise ConfigError(f"{split.where}: {X!r} is not assigned between reading the data and "
                          "the split; the model's input must come from the raw frame")
    literals = {k.arg: k.value for k in split_call.keywords
                if k.arg in ("test_size", "random_state") and isinstance(k.value, ast.Constant)}
    flow = Flow(model=model, raw=raw[0], read=read, X_train=X_train, y_train=y_train, X=X,
                X_test=X_test, split=split, frame=raw[0], split_literals=literals,
                fitted_on_all=on_all)
    frames: set[str] = {raw[0]}
    derived: set[str] = set()
    left: dict[str, Statement] = {}  # a name a left-out statement bound, and that statement
    seen: set[str] = set()  # frames and values of them before her last read of the file
    stats = unused_name(set().union(*(_names(s.node) | _bound(s.node) for s in stmts)))
    pending: list[Statement] = []  # statements statistics(df) replays before the next statistic
    blocked = False  # a training-only statement statistics(df) cannot replay came before
    for stmt in stmts[read_at + 1:x_at]:
        node = stmt.node
        written = _written(node)
        if isinstance(node, (ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef)):
            continue
        if _read_call(node, data_name) and written == {raw[0]}:  # she reads the file again
            seen |= frames | derived
            flow.read, frames, derived, left = stmt, {raw[0]}, set(), {}
            flow.steps, flow.training_only = [], []
            flow.statistics, pending, blocked = [], [], False
            continue
        value = getattr(node, "value", None)
        if written & frames or (written and (frame_value(node, frames) or (
                isinstance(value, ast.expr) and rowwise(value, frames)))):
            reason = why_training_only(stmt, frames, target, derived)
            served = without_target(stmt, target) if reason.startswith("uses the target") \
                else None
            if served is not None and not why_training_only(served, frames, target, derived):
                stmt, reason = served, ""
            gone = sorted(_names(node) & set(left))
            if not reason and gone:
                reason = f"uses {gone[0]}, left out at {left[gone[0]].where}"
            frozen = freeze(stmt, frames, stats) if reason.startswith("aggregates") \
                and not gone and not blocked else None
            if frozen is not None and not why_training_only(frozen[0], frames, target, derived):
                flow.statistics += pending + [key_assignment(stmt, stats, key, expression)
                                              for key, expression in frozen[1].items()]
                stmt, reason, pending, flow.stats_name = frozen[0], "", [], stats
            pending.append(stmt)
            stmt = every_dummy(stmt) or stmt if not reason else stmt
            blocked |= reason.startswith("uses ") and not reason.startswith("uses the target")
            new = written - frames  # a frame she rebinds still exists for the service
            frames |= written
            if reason:
                flow.training_only.append((stmt, reason))
                left.update(dict.fromkeys(new, stmt))
            else:
                flow.steps.append(stmt)
                for name in written:
                    left.pop(name, None)
        elif written and _names(node) & frames:
            frozen = None if blocked or _names(node) & (set(left) | derived) \
                or why_training_only(stmt, frames, target, set()).startswith("uses the target") \
                else freeze(stmt, frames, stats)
            if frozen is not None and not _names(frozen[0].node) & frames:  # top = df.a.max()
                flow.statistics += pending + [key_assignment(stmt, stats, key, expression)
                                              for key, expression in frozen[1].items()]
                pending, flow.stats_name = [frozen[0]], stats
                flow.steps.append(frozen[0])
            else:
                derived |= written  # a value computed from the frame: training's, not a record's
    x_stmt = stmts[x_at]
    x_value: ast.AST = (first_arg if x_at == split_at and first_arg is not None
                        else getattr(x_stmt.node, "value", x_stmt.node))
    if (x_at == split_at or isinstance(x_stmt.node, ast.Assign) and len(x_stmt.node.targets) == 1
            ) and any(isinstance(n, ast.Attribute) and n.attr == "get_dummies"
                      for n in ast.walk(x_value)):
        whole = ast.Expr(cast(ast.expr, x_value))  # her X, wherever she wrote it
        every = every_dummy(Statement(x_stmt.cell, x_stmt.line, whole, ""))
        flow.x_value = ast.unparse(cast(ast.Expr, every.node).value if every else x_value)
    flow.frame = next((n.id for n in ast.walk(x_value)
                       if isinstance(n, ast.Name) and n.id in frames), raw[0])
    if target is not None and flow.frame in left:
        why = next(r for s, r in flow.training_only if s is left[flow.frame])
        raise ConfigError(f"{x_stmt.where}: her model's input comes from {flow.frame}, which "
                          f"{left[flow.frame].where} makes for training only ({why}); build "
                          f"{flow.frame} from the raw frame's columns only, then adopt")
    _support(flow, stmts, x_at, frames | derived | seen)
    return flow


def _support(flow: Flow, stmts: list[Statement], x_at: int, frames: set[str]) -> None:
    """Her definitions (anywhere), the imports they and the steps need, and the plain values
    the steps use (``mapping = {...}``)."""
    flow.definitions = [s for s in stmts if isinstance(s.node, (ast.FunctionDef, ast.ClassDef))]
    needed = set().union(*(_names(s.node) for s in flow.steps + flow.definitions
                           + flow.statistics))
    helpers = [s for s in stmts[:x_at] if isinstance(s.node, (ast.Assign, ast.AnnAssign))
               and _written(s.node) & needed and not _written(s.node) & frames
               and not _names(getattr(s.node, "value", s.node)) & frames]
    flow.helpers = helpers
    needed |= set().union(*(_names(s.node) for s in helpers)) if helpers else set()
    flow.imports = [s for s in stmts if isinstance(s.node, (ast.Import, ast.ImportFrom))
                    and _bound(s.node) & needed]
