"""A neutral declared table and raw rows for the toolkit's tests (not the reference data):
raw headers with spaces and capitals, an ID column to drop, blanks allowed in a number and
a category, integer-coded categories, a string target."""

import numpy as np
import pandas as pd

LOAN = {
    "target": "status",
    "positive": "bad",
    "record": "Loan",
    "columns": {
        "age": {"source": "Age", "kind": "integer", "min": 18, "max": 99, "unit": "years"},
        "income": {"source": "Annual Income", "kind": "number", "min": 0.0, "max": 1_000_000.0,
                   "nullable": True},
        "home": {"kind": "categorical", "categories": ["own", "rent", "other"], "nullable": True},
        "grade": {"kind": "categorical", "categories": [1, 2, 3]},
        "has_guarantor": {"kind": "binary"},
        "status": {"kind": "categorical", "categories": ["good", "bad"]},
    },
    "dropped": {"Loan ID": "id-like (a different value on every row)"},
}


#: The example input of every tier: one valid record of the reference project (features only),
#: as a client sends it to the service.
CUSTOMER = {
    "female": 0, "senior_citizen": 0, "partner": 1, "dependents": 0, "tenure": 5,
    "phone_service": 1, "multiple_lines": "No", "internet_service": "DSL",
    "online_security": "Yes", "online_backup": "No", "device_protection": "No",
    "tech_support": "No internet service", "streaming_tv": "No", "streaming_movies": "Yes",
    "contract": "One year", "paperless_billing": 1, "payment_method": "Mailed check",
    "monthly_charges": 50.5, "total_charges": 250.0,
}


def loan_rows(n: int = 6) -> pd.DataFrame:
    """``n`` valid raw loan rows (raw headers), alternating good/bad, with a few blanks."""
    rng = np.random.default_rng(n)
    return pd.DataFrame({
        "Loan ID": [f"L{i:04d}" for i in range(n)],
        "Age": [20 + (i * 7) % 60 for i in range(n)],
        "Annual Income": [np.nan if i % 5 == 3 else float(20_000 + 1_500 * i) for i in range(n)],
        "home": [None if i % 7 == 4 else ["own", "rent", "other"][i % 3] for i in range(n)],
        "grade": [1 + i % 3 for i in range(n)],
        "has_guarantor": rng.integers(0, 2, n),
        "status": ["bad" if i % 2 else "good" for i in range(n)],
    })
