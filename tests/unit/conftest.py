"""Tiny frames for the unit tests: a few valid Telco rows to break one rule at a time."""

import pandas as pd
import pytest


def good_frame(n: int = 4) -> pd.DataFrame:
    rows = []
    for i in range(n):
        rows.append(
            {
                "churn": "Yes" if i % 2 else "No",
                "female": i % 2,
                "senior_citizen": 0,
                "partner": 1,
                "dependents": 0,
                "tenure": 5 + i,
                "phone_service": 1,
                "multiple_lines": "No",
                "internet_service": "DSL",
                "online_security": "Yes",
                "online_backup": "No",
                "device_protection": "No",
                "tech_support": "No internet service",
                "streaming_tv": "No",
                "streaming_movies": "Yes",
                "contract": "One year",
                "paperless_billing": 1,
                "payment_method": "Mailed check",
                "monthly_charges": 50.5,
                "total_charges": 250.0 + i,
            }
        )
    return pd.DataFrame(rows)


@pytest.fixture
def frame():
    """Four valid raw rows (two churners)."""
    return good_frame()


@pytest.fixture
def make_frame():
    """good_frame(n): n valid raw rows, alternating churn."""
    return good_frame
