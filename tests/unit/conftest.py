"""Tiny frames for the unit tests, to break one rule at a time.

Two tables: a neutral loan table (``loan_table``, ``loan_frame``: raw headers with spaces
and capitals, an ID column to drop, blanks allowed in a number and a category, integer-coded
categories, a string target) for the generic toolkit, and a few valid rows of the reference
project (``frame``, ``make_frame``, ``telco_table``) for the tests of its service path.
"""

from pathlib import Path

import pandas as pd
import pytest

from nbprod.data.columns import ColumnTable
from tables import CUSTOMER, LOAN, loan_rows

ROOT = Path(__file__).resolve().parents[2]

@pytest.fixture
def loan_table() -> ColumnTable:
    return ColumnTable.from_dict(LOAN, source="loan.yaml")


@pytest.fixture
def loan_frame():
    """loan_rows(n): n valid raw loan rows."""
    return loan_rows


def good_frame(n: int = 4) -> pd.DataFrame:
    """``n`` rows of the example input (``tables.CUSTOMER``), varied, alternating churn."""
    rows = [{**CUSTOMER, "churn": "Yes" if i % 2 else "No", "female": i % 2, "tenure": 5 + i,
             "total_charges": 250.0 + i} for i in range(n)]
    return pd.DataFrame(rows)


@pytest.fixture
def telco_table() -> ColumnTable:
    return ColumnTable.load(ROOT / "columns.yaml")


@pytest.fixture
def frame():
    """Four valid raw rows of the reference project (two churners)."""
    return good_frame()


@pytest.fixture
def make_frame():
    """good_frame(n): n valid raw rows of the reference project, alternating churn."""
    return good_frame
