"""The test set's fingerprint: which rows a model was scored on, and no row.

Two models' metrics compare only when they were computed on the same rows. The register
step records the held-out rows' fingerprint in the lineage (``test_set``), the gate uses it
to tell whether production must be re-scored on the candidate's rows, and ``nbprod models
show`` and ``compare`` print it. It is the sha256 of the column names and of pandas' hash
of every row (its index, the row's number in the data, included), so a changed
``test_size``, split seed or declared split gives another fingerprint; the number of rows
and columns go beside it. No value of the data is kept.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pandas as pd

#: how many hex digits of the fingerprint people are shown
SHORT = 12


def fingerprint(frame: pd.DataFrame) -> dict[str, Any]:
    """``{"sha256": ..., "rows": n, "columns": k}`` of ``frame`` (its index included)."""
    digest = hashlib.sha256()
    digest.update(json.dumps([str(c) for c in frame.columns]).encode())
    rows = pd.util.hash_pandas_object(frame, index=True)
    digest.update(rows.to_numpy().tobytes())
    return {"sha256": digest.hexdigest(), "rows": int(len(frame)),
            "columns": int(len(frame.columns))}


def describe(record: dict[str, Any] | None) -> str:
    """One fingerprint record as people read it: ``1a2b3c4d5e6f (1,409 rows)``."""
    if not record or not record.get("sha256"):
        return "not recorded"
    return f"{str(record['sha256'])[:SHORT]} ({int(record.get('rows', 0)):,} rows)"
