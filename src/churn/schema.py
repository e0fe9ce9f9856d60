"""The declared schema of the raw Telco churn file, and its validation.

One table, :data:`COLUMNS`, declares every column once: its kind, the allowed
categories or range, and whether it may be missing. The pandera schema used to
validate the raw file and the feature schema stored with the model are both
derived from it, so they can never disagree.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import pandera.pandas as pa
from pandera.errors import SchemaErrors

from nbprod.errors import DataValidationError

TARGET = "churn"
TARGET_CLASSES = ("No", "Yes")

_SERVICE = ["No", "Yes", "No internet service"]

#: column -> declaration. kind is one of "binary" (0/1), "categorical", "integer", "number".
COLUMNS: dict[str, dict[str, Any]] = {
    "churn": {"kind": "categorical", "categories": list(TARGET_CLASSES)},
    "female": {"kind": "binary"},
    "senior_citizen": {"kind": "binary"},
    "partner": {"kind": "binary"},
    "dependents": {"kind": "binary"},
    "tenure": {"kind": "integer", "min": 0, "max": 120, "unit": "months"},
    "phone_service": {"kind": "binary"},
    "multiple_lines": {"kind": "categorical", "categories": ["No", "Yes", "No phone service"]},
    "internet_service": {"kind": "categorical", "categories": ["DSL", "Fiber optic", "No"]},
    "online_security": {"kind": "categorical", "categories": _SERVICE},
    "online_backup": {"kind": "categorical", "categories": _SERVICE},
    "device_protection": {"kind": "categorical", "categories": _SERVICE},
    "tech_support": {"kind": "categorical", "categories": _SERVICE},
    "streaming_tv": {"kind": "categorical", "categories": _SERVICE},
    "streaming_movies": {"kind": "categorical", "categories": _SERVICE},
    "contract": {"kind": "categorical", "categories": ["Month-to-month", "One year", "Two year"]},
    "paperless_billing": {"kind": "binary"},
    "payment_method": {
        "kind": "categorical",
        "categories": [
            "Electronic check",
            "Mailed check",
            "Bank transfer (automatic)",
            "Credit card (automatic)",
        ],
    },
    "monthly_charges": {"kind": "number", "min": 0.0, "max": 1000.0, "unit": "USD"},
    # Blank in the raw file for customers with tenure 0 (never billed yet): see
    # ``_total_charges_only_missing_for_new_customers`` and ``churn.data.clean``.
    "total_charges": {"kind": "number", "min": 0.0, "max": 200_000.0, "unit": "USD", "nullable": True},
}

FEATURES: list[str] = [c for c in COLUMNS if c != TARGET]


def _column(spec: dict[str, Any]) -> pa.Column:
    kind = spec["kind"]
    nullable = spec.get("nullable", False)
    if kind == "binary":
        return pa.Column("int64", pa.Check.isin([0, 1]), coerce=True, nullable=nullable)
    if kind == "categorical":
        return pa.Column(str, pa.Check.isin(spec["categories"]), nullable=nullable)
    dtype = "int64" if kind == "integer" else "float64"
    checks = [pa.Check.in_range(spec["min"], spec["max"])]
    return pa.Column(dtype, checks, coerce=True, nullable=nullable)


def _total_charges_only_missing_for_new_customers(df: pd.DataFrame) -> pd.Series:
    return df["total_charges"].notna() | (df["tenure"] == 0)


RAW_SCHEMA = pa.DataFrameSchema(
    {name: _column(spec) for name, spec in COLUMNS.items()},
    checks=[
        pa.Check(lambda df: len(df) > 0, element_wise=False, name="at_least_one_row"),
        pa.Check(
            _total_charges_only_missing_for_new_customers,
            name="total_charges_missing_only_when_tenure_is_0",
        ),
    ],
    strict=True,
    ordered=False,
    name="telco_churn_raw",
)


def validate(df: pd.DataFrame, source: str = "data") -> pd.DataFrame:
    """Return ``df`` with declared dtypes, or raise :class:`DataValidationError`.

    All rules are checked (lazy validation), so one run reports every broken rule
    with its column, the rule and a few offending rows.
    """
    try:
        return RAW_SCHEMA.validate(df, lazy=True)
    except SchemaErrors as exc:
        raise DataValidationError(source, _failures(exc.failure_cases)) from None


_TABLE_RULES = {
    "column_in_dataframe": "missing_column",
    "column_in_schema": "unexpected_column",
}


def _failures(cases: pd.DataFrame) -> list[dict]:
    """Group pandera's failure cases by (column, rule), keeping a few offending rows.

    A missing or unexpected column is reported under its own name; once a value
    cannot be converted to the column's dtype, the follow-on dtype and range
    failures of that column are dropped (they repeat the same offending values).
    """
    cases = cases.astype({"column": "object", "check": "object"})
    table = cases["check"].isin(list(_TABLE_RULES))
    cases.loc[table, "column"] = cases.loc[table, "failure_case"].astype(str)
    cases.loc[table, "check"] = cases.loc[table, "check"].map(_TABLE_RULES)
    cases["column"] = cases["column"].fillna("<table>")
    uncoercible = set(cases.loc[cases["check"].astype(str).str.startswith("coerce_dtype"), "column"])
    failures = []
    for (column, check), group in cases.groupby(["column", "check"], sort=False, dropna=False):
        check = str(check)
        if column in uncoercible and not check.startswith("coerce_dtype"):
            continue
        rows = {}
        if check not in _TABLE_RULES.values():
            for idx, value in zip(group["index"], group["failure_case"], strict=False):
                if len(rows) == 5:
                    break
                rows[_as_int(idx)] = value
        failures.append(
            {"column": str(column), "rule": check, "count": int(len(group)), "rows": rows}
        )
    return failures


def _as_int(idx: Any) -> Any:
    try:
        return int(idx)
    except (TypeError, ValueError):
        return idx
