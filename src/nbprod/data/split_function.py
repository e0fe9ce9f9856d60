"""Her own split function (``split: {function: "mypackage.splits:my_split"}``): imported
from her package, called on the validated frame (with ``seed``, the ``split_seed``, when it
takes one), and its answer checked: the test rows as booleans, one per row, or the
``(train, test)`` frames holding every row once. Anything else is a one-line
:class:`~nbprod.errors.ConfigError` naming the file and the function."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from ..errors import ConfigError
from .references import import_function


def load_split(reference: str, where: str) -> Callable[..., Any]:
    """Her split function, from ``module:function``, or :class:`ConfigError`."""
    return import_function(reference, f"{where}: split.function {reference!r}",
                           "define it in your package (src/<package>/) and install it")


def call_split(reference: str, df: pd.DataFrame, seed: int, where: str) -> np.ndarray:
    """Her function's test rows (booleans in ``df``'s order), its answer checked."""
    function = load_split(reference, where)
    try:
        takes_seed = "seed" in inspect.signature(function).parameters
    except (TypeError, ValueError):
        takes_seed = False
    answer = function(df.copy(), seed=seed) if takes_seed else function(df.copy())
    return as_test_mask(answer, df, f"{where}: split.function {reference}")


def as_test_mask(answer: Any, df: pd.DataFrame, what: str) -> np.ndarray:
    """Her function's answer as the test rows: booleans, one per row of ``df`` (a Series
    on ``df``'s index, an array or a list), or the ``(train, test)`` frames, which split
    ``df``'s rows between them."""
    if isinstance(answer, tuple) and len(answer) == 2 and all(
            isinstance(a, pd.DataFrame) for a in answer):
        train, test = answer
        both = train.index.intersection(test.index)
        unknown = train.index.union(test.index).difference(df.index)
        left = df.index.difference(train.index.union(test.index))
        for rows, why in ((both, "are in both frames"), (unknown, "are not rows of the data"),
                          (left, "are in neither frame")):
            if len(rows):
                raise ConfigError(f"{what}: {len(rows)} row(s) {why} (row(s) "
                                  f"{[_label(i) for i in rows[:5]]}); return (train, test) "
                                  "holding every row once")
        return np.asarray(df.index.isin(test.index), dtype=bool)
    if isinstance(answer, pd.Series):
        if not answer.index.equals(df.index):
            raise ConfigError(f"{what}: the mask's index is not the data's; return one "
                              "boolean per row, on the frame's index")
        answer = answer.to_numpy()
    if isinstance(answer, np.ndarray | list):
        mask = np.asarray(answer)
        if mask.dtype == bool and mask.shape == (len(df),):
            return mask
        raise ConfigError(f"{what}: returned {mask.dtype} values of shape {mask.shape}; "
                          f"return one boolean per row ({len(df)}), True for a test row")
    raise ConfigError(f"{what}: returned a {type(answer).__name__}; return one boolean per "
                      "row (True for a test row) or the (train, test) frames")


def _label(index: Any) -> Any:
    return int(index) if isinstance(index, int | np.integer) else str(index)
