"""One frame for training and serving: the dtypes a model sees, whichever path fed it.

The pipeline stores validated data with compact dtypes (categories as pandas ``category``,
flags as ``int8``: :func:`nbprod.data.validation.compact`), and the service builds its frame
from JSON values. A model, and her own pandas code inside it, must see the same thing on
both paths, so both go through :func:`model_frame`: the dtypes a CSV reader gives for the
declared kind of each column (text as pandas' string dtype, whole numbers as ``int64``,
numbers and anything nullable but text as ``float64``, dates and timestamps as
``datetime64[ns]`` in UTC, free text as ``str`` with a blank as the empty text).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol

import numpy as np
import pandas as pd

from .dates import as_datetimes


class Declared(Protocol):
    """A declared column or feature: :class:`~nbprod.data.columns.Column` or
    :class:`~nbprod.data.schema.Feature`."""

    @property
    def name(self) -> str: ...

    @property
    def kind(self) -> str: ...

    @property
    def nullable(self) -> bool: ...

    @property
    def categories(self) -> Any: ...

    @property
    def format(self) -> str | None: ...


def as_missing(values: pd.Series, missing: Iterable[str] | None) -> pd.Series:
    """``values`` with every string of ``missing`` (a column's declared blanks, such as
    ``" "``) replaced by a blank; the rest unchanged."""
    if not missing:
        return values
    return values.mask(values.isin(list(missing)))


def as_numbers(values: pd.Series) -> pd.Series:
    """Text ``values`` as numbers when every one of them is a number or blank (a column
    whose blank-like strings were just read as blanks); else unchanged, for validation to
    name the values that are not numbers."""
    if pd.api.types.is_numeric_dtype(values):
        return values
    try:
        return pd.to_numeric(values.astype("object"))
    except (ValueError, TypeError):
        return values


#: pandas' ``str`` dtype, resolved once: resolving the name costs as much as building a
#: one-row column from it, on every request the service answers
STR = pd.api.types.pandas_dtype("str")


def input_dtype(kind: str, categories: Iterable[Any] | None, nullable: bool) -> str:
    """The dtype a model sees for a column of ``kind``: what ``pandas.read_csv`` gives."""
    if kind == "categorical":
        values = list(categories or ())
        if all(isinstance(v, str) for v in values):
            return "str"
        if all(isinstance(v, int) and not isinstance(v, bool) for v in values):
            return "float64" if nullable else "int64"
        if all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
            return "float64"
        return "object"
    if kind == "datetime":
        return "datetime64[ns]"
    if kind == "text":
        return "str"
    if kind == "number" or nullable:
        return "float64"
    return "int64"


def model_frame(data: pd.DataFrame | Mapping[str, Sequence[Any]],
                columns: Sequence[Declared]) -> pd.DataFrame:
    """The model's input: ``columns`` in their order, each with :func:`input_dtype`.

    ``data`` is a frame (training, evaluation, batch scoring) or a mapping of column name
    to values (the service's rows; missing values already NaN).
    """
    out: dict[str, Any] = {}
    for column in columns:
        values = data[column.name]
        dtype = input_dtype(column.kind, column.categories, column.nullable)
        if column.kind == "datetime":  # ISO text or her format, any zone: one instant in UTC
            out[column.name] = as_datetimes(values, column.format).to_numpy()
        elif column.kind == "text":  # a blank text is the empty text
            text = pd.Series(values, dtype=object)
            out[column.name] = pd.array(text.where(text.notna(), "").to_numpy(), dtype=STR)
        elif isinstance(values, pd.Series):
            out[column.name] = values if str(values.dtype) == dtype else values.astype(dtype)
        elif dtype == "str":
            out[column.name] = pd.array(values, dtype=STR)
        else:
            out[column.name] = np.asarray(values, dtype=dtype)
    index = data.index if isinstance(data, pd.DataFrame) else None
    return pd.DataFrame(out, index=index)  # ``out`` is in ``columns``' order already
