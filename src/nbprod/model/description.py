"""What a fitted model really is, for its lineage: its classes, parameters and libraries.

The lineage records the model that was fitted, not the parameter a notebook was given: the
served object's class, the final estimator's class and parameters (a search object's best
estimator, a pipeline's last step), the steps of a pipeline, and the version of every
library whose types the stored model holds (found from the skops file's own object tree,
so a transformer of her package or an XGBoost booster is counted as well).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from importlib.metadata import PackageNotFoundError, packages_distributions, version
from typing import Any

from .onnx_model import OnnxModel

#: Modules that are part of Python, not a library with a version.
STDLIB = frozenset({"builtins", "collections", "functools", "operator", "__main__"})


def class_path(obj: Any) -> str:
    kind = type(obj)
    return f"{kind.__module__}.{kind.__qualname__}"


def final_estimator(model: Any) -> Any:
    """The estimator that makes the predictions: a search's best, a pipeline's last step."""
    seen = 0
    while seen < 20:
        seen += 1
        if hasattr(model, "best_estimator_"):
            model = model.best_estimator_
        elif hasattr(model, "steps") and isinstance(model.steps, list) and model.steps:
            model = model.steps[-1][1]
        else:
            return model
    return model


def plain(value: Any) -> Any:
    """``value`` as JSON-like data: numbers, strings, lists and dicts; anything else by its
    class path (an estimator given as a parameter) or its text."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return float(value) if math.isfinite(value) else str(value)  # np.float64 is a float
    if hasattr(value, "item") and getattr(value, "ndim", 1) == 0:  # numpy scalars
        return plain(value.item())
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if callable(getattr(value, "get_params", None)):
        return class_path(value)
    if callable(value):
        return f"{getattr(value, '__module__', '?')}.{getattr(value, '__qualname__', '?')}"
    return str(value)[:200]


def describe(model: Any, types: Iterable[str] = ()) -> dict[str, Any]:
    """The lineage's ``model`` record: class paths, parameters, steps and libraries."""
    if isinstance(model, OnnxModel):
        return {**model.describe(), "libraries": libraries(["onnxruntime.InferenceSession"])}
    final = final_estimator(model)
    params = final.get_params(deep=False) if callable(getattr(final, "get_params", None)) else {}
    record: dict[str, Any] = {
        "class": class_path(model),
        "estimator": class_path(final),
        "params": plain(params),
    }
    steps = getattr(model, "steps", None)
    if isinstance(steps, list):
        record["steps"] = [f"{name}: {class_path(step)}" for name, step in steps]
    if hasattr(model, "best_params_"):
        record["best_params"] = plain(model.best_params_)
    record["libraries"] = libraries(types or [record["class"], record["estimator"]])
    return record


def libraries(types: Iterable[str]) -> dict[str, str]:
    """The installed distribution and version of each library holding one of ``types``
    (``module.Name``); Python's own modules are left out."""
    by_module = packages_distributions()
    found: dict[str, str] = {}
    for name in types:
        top = name.split(".")[0]
        if top in STDLIB:
            continue
        for dist in by_module.get(top, []):
            try:
                found[dist] = version(dist)
            except PackageNotFoundError:
                continue
    return dict(sorted(found.items()))
