"""The gate's trial of what the service will do: single records, through ``/predict``'s path.

Evaluation scores the whole held-out frame at once. A model whose own code depends on the
batch (``pandas.get_dummies`` on the input, a column built from the frame's other rows)
passes it, then cannot answer one record once served. Before a candidate is promoted,
:func:`single_record_trial` sends held-out rows one at a time the way a client does: as
JSON values, validated by the input model of ``/predict``, framed and scored by the
service's :class:`~nbprod.serving.predictor.Predictor`; each answer must be the answer the
same row gets in one batch.
"""

from __future__ import annotations

import json
import math
from typing import Any

import pandas as pd
from pydantic import ValidationError

from ..data.cleaning import Cleaning
from ..data.schema import FeatureSchema
from ..errors import PredictionError
from .predictor import Predictor, input_model

#: Rows the trial sends one by one.
ROWS = 20
#: Largest difference allowed between a row's answer alone and in a batch.
TOLERANCE = 1e-6


def records(frame: pd.DataFrame, schema: FeatureSchema, rows: int = ROWS) -> list[dict[str, Any]]:
    """Up to ``rows`` rows of ``frame`` as a client sends them: JSON values, whole numbers as
    integers where the schema says so, blanks as null."""
    sample = frame[schema.names].head(rows)
    out = json.loads(sample.to_json(orient="records", double_precision=15))
    whole = [f.name for f in schema.features if f.kind in ("integer", "binary")]
    for record in out:
        for name in whole:
            value = record[name]
            if isinstance(value, float) and value.is_integer():
                record[name] = int(value)
    return out


def single_record_trial(model: Any, schema: FeatureSchema, frame: pd.DataFrame,
                        threshold: float = 0.5, rows: int = ROWS,
                        clean: Cleaning | None = None, compiled: Any = None) -> str | None:
    """Why ``model`` (with her cleaning step ``clean``, as the service runs it) cannot serve
    single records of ``frame``, or None when it can; ``compiled`` is the graph that will
    answer for it, if any (tried instead, as served)."""
    predictor = Predictor(model, schema, "candidate", threshold, clean=clean, compiled=compiled)
    Record = input_model(schema)
    sent = records(frame, schema, rows)
    if not sent:
        return None
    try:
        validated = [Record.model_validate(r) for r in sent]
    except ValidationError as exc:
        return f"a held-out row is not a valid request: {exc.errors()[0]['msg']}"
    try:
        together = predictor.predict(validated)
    except PredictionError as exc:
        return f"the held-out rows in one batch: {exc}"
    for i, (record, batched) in enumerate(zip(validated, together, strict=True)):
        try:
            (alone,) = predictor.predict([record])
        except PredictionError as exc:
            return f"held-out row {i} alone, as /predict sends it: {exc}"
        differs = _difference(alone.model_dump(), batched.model_dump())
        if differs:
            return f"held-out row {i} alone, as /predict sends it, gets {differs} than in a batch"
    return None


def _difference(alone: dict[str, Any], batched: dict[str, Any]) -> str | None:
    for key, value in alone.items():
        other = batched.get(key)
        if isinstance(value, float) and isinstance(other, float):
            if not math.isclose(value, other, rel_tol=TOLERANCE, abs_tol=TOLERANCE):
                return f"another {key} ({value:.6g}, not {other:.6g})"
        elif isinstance(value, dict) and isinstance(other, dict):
            inner = _difference(value, other)
            if inner:
                return inner
        elif value != other:
            return f"another {key} ({value!r}, not {other!r})"
    return None
