"""Validating a raw data frame against its declared column table (pandera, lazily).

Every rule is checked in one pass, so one failed build lists every problem once: its
column (or ``<table>`` for a rule across columns), the rule, how many rows break it and a
few of them with their values.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd
import pandera.pandas as pa
from pandera.errors import SchemaErrors

from ..errors import DataValidationError
from .cleaning import Cleaning, apply_cleaning
from .columns import Column, ColumnTable
from .dataset import check_target
from .dates import declared_range, outside, range_text, unparsed
from .frames import as_missing, as_numbers
from .splits import TEST, TRAIN, Split, when

#: pandera's names for the rules about the table's columns, and ours.
_TABLE_RULES = {
    "column_in_dataframe": "missing_column",
    "column_in_schema": "unexpected_column",
}


def prepare(df: pd.DataFrame, table: ColumnTable, clean: Cleaning | None = None) -> pd.DataFrame:
    """``df`` with raw headers renamed to the declared names, the strings a column declares
    ``missing`` read as blanks, cleaned by ``clean`` (which still sees the dropped columns,
    under their raw headers) and without the dropped columns."""
    out = df.rename(columns=table.renames)
    marked = {c.name: _read_blanks(out[c.name], c) for c in table.columns
              if c.missing and c.name in out.columns}
    out = out.assign(**marked) if marked else out
    if clean is not None:
        out = apply_cleaning(clean, out)
    gone = [c for c in table.dropped if c in out.columns]
    return out.drop(columns=gone) if gone else out


def _read_blanks(values: pd.Series, column: Column) -> pd.Series:
    """A column's declared blank strings as blanks; a column of numbers then as numbers
    (so that her ``clean`` sees ``total_charges`` as the numbers it is)."""
    out = as_missing(values, column.missing)
    numbers = column.kind in ("integer", "number", "binary") or (
        column.kind == "categorical" and not all(isinstance(c, str) for c in column.categories or ()))
    return as_numbers(out) if numbers else out


def pandera_column(column: Column) -> pa.Column:
    """The pandera column of one declaration: dtype, allowed values, nullability."""
    nullable = column.nullable
    if column.kind == "binary":
        return pa.Column("Int64" if nullable else "int64", pa.Check.isin([0, 1]), coerce=True,
                         nullable=nullable)
    if column.kind == "categorical":
        cats = list(column.categories or ())
        if all(isinstance(c, str) for c in cats):
            return pa.Column(str, pa.Check.isin(cats), nullable=nullable)
        return pa.Column("Int64", pa.Check.isin(cats), coerce=True, nullable=nullable)
    if column.kind == "text":
        bound = [pa.Check.str_length(max_value=column.max_length)] if column.max_length else []
        return pa.Column(str, bound, nullable=nullable)
    if column.kind == "datetime":
        return pa.Column(checks=_date_checks(column), nullable=nullable)
    if column.kind == "integer":
        dtype = "Int64" if nullable else "int64"
    else:
        dtype = "float64"
    return pa.Column(dtype, _range(column), coerce=True, nullable=nullable)


def _date_checks(column: Column) -> list[pa.Check]:
    """ISO text (or text in the column's ``format``) on every present row and, when
    declared, within the column's range (the rules' names say the format and the range)."""
    fmt = column.format
    name = "iso_date_or_timestamp" if fmt is None else f"date_in_format {fmt}"
    checks = [pa.Check(lambda s: ~unparsed(s, fmt), name=name)]
    low, high = declared_range(column.min, column.max)
    if low is not None or high is not None:
        checks.append(pa.Check(lambda s: ~outside(s, low, high, fmt),
                               name=f"date {range_text(low, high)}"))
    return checks


def _range(column: Column) -> list[pa.Check]:
    if column.min is not None and column.max is not None:
        return [pa.Check.in_range(column.min, column.max)]
    if column.min is not None:
        return [pa.Check.ge(column.min)]
    if column.max is not None:
        return [pa.Check.le(column.max)]
    return []


def split_column(split: Split) -> pa.Column:
    """The column kept for her declared split alone: ``train`` or ``test`` on every row, an
    ISO date or timestamp on every row, or a group on every row."""
    if split.group is not None:
        return pa.Column(nullable=False)
    if split.test_from is None:
        return pa.Column(str, pa.Check.isin([TRAIN, TEST]), nullable=False)
    return pa.Column(checks=pa.Check(lambda s: when(s).notna(), name="iso_date"),
                     nullable=False)


def pandera_schema(table: ColumnTable, rules: Sequence[pa.Check] = ()) -> pa.DataFrameSchema:
    """The schema of the whole (renamed) raw frame: every declared column (and the column
    kept for her declared split), nothing else, at least one row, plus the project's own
    ``rules`` across columns."""
    columns = {c.name: pandera_column(c) for c in table.columns}
    if table.split_only is not None and table.split is not None:
        columns[table.split_only] = split_column(table.split)
    return pa.DataFrameSchema(
        columns,
        checks=[pa.Check(lambda df: len(df) > 0, element_wise=False, name="at_least_one_row"),
                *rules],
        strict=True,
        ordered=False,
    )


def validate(
    df: pd.DataFrame, table: ColumnTable, rules: Sequence[pa.Check] = (), source: str = "data",
    clean: Cleaning | None = None,
) -> pd.DataFrame:
    """``df`` renamed, cleaned by her ``clean`` (before any rule is checked), without its
    dropped columns and with declared dtypes, or :class:`DataValidationError` listing every
    broken rule once."""
    frame = prepare(df, table, clean)
    check_target(frame, table, source)
    try:
        return pandera_schema(table, rules).validate(frame, lazy=True)
    except SchemaErrors as exc:
        raise DataValidationError(source, failures(exc.failure_cases)) from None


def validate_records(
    df: pd.DataFrame, table: ColumnTable, rules: Sequence[pa.Check] = (), source: str = "data",
    clean: Cleaning | None = None,
) -> pd.DataFrame:
    """As :func:`validate`, for raw records that do not carry the target (a target her
    notebook computes in training): every declared column but the target."""
    frame = prepare(df, table, clean)
    try:
        return pandera_schema(table, rules).remove_columns([table.target]).validate(
            frame, lazy=True)
    except SchemaErrors as exc:
        raise DataValidationError(source, failures(exc.failure_cases)) from None


def compact(df: pd.DataFrame, table: ColumnTable) -> pd.DataFrame:
    """``df`` (validated) with the smallest dtypes that keep every value.

    Categorical columns become pandas ``category`` with the declared categories (in the
    declared order), 0/1 columns ``int8`` and integer columns ``int32``; numbers stay
    ``float64`` so that no value changes. At a million rows this divides the frame's memory
    by about ten; the model and the feature schema see the same values.
    """
    dtypes: dict[str, Any] = {}
    for column in table.columns:
        name = column.name
        if name not in df.columns:
            continue
        has_na = bool(df[name].isna().any())
        if column.kind == "categorical":
            dtypes[name] = pd.CategoricalDtype(list(column.categories or ()))
        elif column.kind == "binary" and not has_na:
            dtypes[name] = "int8"
        elif column.kind == "integer" and not has_na and _fits_int32(df[name]):
            dtypes[name] = "int32"
    return df.astype(dtypes)


def _fits_int32(col: pd.Series) -> bool:
    return col.empty or (col.min() >= -(2**31) and col.max() < 2**31)


def failures(cases: pd.DataFrame) -> list[dict]:
    """Group pandera's failure cases by (column, rule), keeping a few offending rows.

    A missing or unexpected column is reported under its own name; a rule across columns
    under ``<table>``, once, however many columns it reads; once a value cannot be converted
    to the column's dtype, the follow-on dtype and range failures of that column are dropped
    (they repeat the same offending values).
    """
    cases = cases.astype({"column": "object", "check": "object"})
    table = cases["check"].isin(list(_TABLE_RULES))
    cases.loc[table, "column"] = cases.loc[table, "failure_case"].astype(str)
    cases.loc[table, "check"] = cases.loc[table, "check"].map(_TABLE_RULES)
    frame_level = cases["schema_context"].astype(str) == "DataFrameSchema"
    cases.loc[frame_level & ~table, "column"] = "<table>"
    cases["column"] = cases["column"].fillna("<table>")
    checks = cases["check"].astype(str)
    uncoercible = set(cases.loc[checks.str.startswith("coerce_dtype"), "column"])
    out = []
    for (column, check), group in cases.groupby(["column", "check"], sort=False, dropna=False):
        check = str(check)
        if column in uncoercible and not check.startswith("coerce_dtype"):
            continue
        rows: dict[Any, Any] = {}
        index = group["index"]
        if check not in _TABLE_RULES.values():
            distinct = group.drop_duplicates("index") if column == "<table>" else group
            for idx, value in zip(distinct["index"], distinct["failure_case"], strict=False):
                if len(rows) == 5:
                    break
                rows[_as_int(idx)] = None if column == "<table>" else value
        count = int(index.nunique()) if column == "<table>" and index.notna().any() else len(group)
        out.append({"column": str(column), "rule": check, "count": int(count), "rows": rows})
    return out


def _as_int(idx: Any) -> Any:
    try:
        return int(idx)
    except (TypeError, ValueError):
        return idx
