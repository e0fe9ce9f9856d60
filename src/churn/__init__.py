"""The reference project's domain code: what is true of the Telco churn data alone.

Everything generic (reading, validating against ``columns.yaml``, features, the model,
evaluation, registration, serving) is nbprod's; this package holds the two decisions the
column table cannot express.
"""

from __future__ import annotations

import logging

import pandas as pd
import pandera.pandas as pa

log = logging.getLogger(__name__)


def _total_charges_only_missing_for_new_customers(df: pd.DataFrame) -> pd.Series:
    return df["total_charges"].notna() | (df["tenure"] == 0)


#: Rules across columns, checked with the declared ones (``nbprod.data.validation.validate``).
RULES = [
    pa.Check(
        _total_charges_only_missing_for_new_customers,
        name="total_charges_missing_only_when_tenure_is_0",
    ),
]


def clean(df: pd.DataFrame) -> pd.DataFrame:
    """Fill ``total_charges`` for brand-new customers.

    Customers with ``tenure == 0`` have not been billed yet, so the raw file leaves
    their ``total_charges`` blank. Their true total is 0.0: we fill exactly those
    rows and no others (a blank for tenure > 0 is left for validation to reject:
    ``RULES``). It runs before validation in the pipeline and on every request the
    service answers, so a new customer is scored as the model was trained. A frame with
    nothing to fill (most requests) is given back as it is, without a copy.
    """
    new = df["total_charges"].isna() & (df["tenure"] == 0)
    if not new.any():
        return df
    out = df.copy()
    out.loc[new, "total_charges"] = 0.0
    log.info("filled total_charges=0.0 for %d new customer(s) with tenure 0", int(new.sum()))
    return out
