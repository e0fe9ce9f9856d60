"""Production re-scored on the candidate's test set, so the gate compares like with like.

A candidate's metrics are computed on its own held-out rows. Production's recorded metrics
were computed on the rows of its own build: after a change of ``test_size``, of the split's
seed or of the declared split they are other rows, and comparing the two numbers says
little. Before the gate judges, :func:`production_metrics` therefore gives production's
metrics on the candidate's rows:

- the same test set (equal fingerprints, :mod:`nbprod.data.test_set`): production's
  recorded metrics, which were computed on these very rows;
- another test set: production's model (sha256-checked, trusted types only) predicts the
  candidate's held-out rows, scored as the evaluate step scores (its own threshold);
- production cannot answer those rows (another target, kind or classes, a feature the
  rows lack, or its model fails on them), or the candidate has no held-out rows: its
  recorded metrics, as before, and the note says so and why.

The note goes into the gate's reason, so the build, the register report and ``nbprod
models history`` say on which rows the two were compared.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..data.frames import model_frame
from ..data.schema import FeatureSchema
from ..data.test_set import describe
from ..model.evaluation import score
from ..model.predictions import predict
from .store import load_artifact, read_info, schema_of, threshold_of

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class HeldOut:
    """The candidate's held-out rows as the gate needs them: the validated columns, the
    labels as the model learned them (0/1, the class index, the value) and the rows'
    fingerprint (:func:`nbprod.data.test_set.fingerprint`)."""

    rows: pd.DataFrame
    labels: np.ndarray
    fingerprint: dict[str, Any]


def production_metrics(stored: Any, held: HeldOut | None, schema: dict[str, Any] | None
                       ) -> tuple[dict[str, Any], str]:
    """Production's metrics to judge the candidate against, and on which rows they are.

    ``stored`` is the production version, ``held`` the candidate's held-out rows (None:
    none), ``schema`` the candidate's feature schema (as stored in its metadata).
    """
    recorded = dict(read_info(stored).metadata.get("metrics") or {})
    own = read_info(stored).metadata.get("test_set")
    if held is None or not schema:
        return recorded, (f"production's recorded metrics, on its own test set "
                          f"({describe(own)}): the candidate has no held-out rows to "
                          "re-score it on")
    if own and own.get("sha256") == held.fingerprint["sha256"]:
        return recorded, f"same test set as production ({describe(own)})"
    metrics, why = _rescore(stored, held, FeatureSchema.from_dict(schema))
    if metrics is None:
        return recorded, (f"production could not be re-scored on the candidate's test set "
                          f"({describe(held.fingerprint)}): {why}; compared with its recorded "
                          f"metrics on its own test set ({describe(own)}), other rows")
    return metrics, (f"production re-scored on the candidate's test set "
                     f"({describe(held.fingerprint)}; its own was {describe(own)})")


def _rescore(stored: Any, held: HeldOut, schema: FeatureSchema
             ) -> tuple[dict[str, Any] | None, str]:
    """Production's metrics on the held-out rows, or None and why it cannot answer them."""
    theirs = schema_of(stored)
    for what in ("model_kind", "target", "classes"):
        if getattr(theirs, what) != getattr(schema, what):
            return None, (f"its {what.replace('_', ' ')} is {getattr(theirs, what)!r}, "
                          f"the candidate's {getattr(schema, what)!r}")
    missing = [name for name in theirs.names if name not in held.rows.columns]
    if missing:
        return None, f"its columns differ: the test rows lack {missing[:5]}"
    try:
        model = load_artifact(stored)
        X = model_frame(held.rows, theirs.features)
        predicted = predict(model, X, theirs.model_kind, theirs.classes or None)
        return score(theirs.model_kind, held.labels, predicted.reset_index(drop=True),
                     theirs.classes, threshold_of(stored)), ""
    except Exception as exc:  # noqa: BLE001 - her model's own error, reported, never raised
        log.warning("production %s could not be re-scored: %r", stored.tag, exc)
        first = str(exc).splitlines()[0] if str(exc) else ""
        return None, f"its model fails on them ({type(exc).__name__}: {first[:160]})"
