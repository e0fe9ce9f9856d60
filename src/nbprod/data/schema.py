"""The feature schema of a model and the reference statistics of its training data.

The schema (name, kind, categories, range, nullability, an example value) is
derived once, in the pipeline, from the declared column table (the contract) and the
training frame (the example values). It is stored with the model so that the service can generate its typed API
from it and the drift monitor can compare live traffic with the training data.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import ConfigError
from .columns import ColumnTable
from .drift import MEASURED, bin_counts, measure, quantile_edges
from .model_kinds import BINARY, check_model_kind
from .token_drift import KEY as TOKENS
from .token_drift import token_reference

KINDS = ("binary", "categorical", "integer", "number", "datetime", "text")


@dataclass(frozen=True)
class Feature:
    """One input column of the model."""

    name: str
    kind: str
    categories: list[Any] | None = None
    #: integer and number: a number; datetime: ISO text
    min: float | str | None = None
    max: float | str | None = None
    nullable: bool = False
    example: Any = None
    unit: str | None = None
    #: strings that stand for a blank (the raw file's ``" "``): accepted and read as null
    missing: list[str] | None = None
    #: the longest text a ``text`` feature accepts, in characters
    max_length: int | None = None
    #: how a ``datetime`` feature's text is written, a strftime format (None: ISO)
    format: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ConfigError(f"feature {self.name!r}: kind {self.kind!r} is not one of {KINDS}")
        if self.kind == "categorical" and not self.categories:
            raise ConfigError(f"feature {self.name!r}: a categorical feature needs categories")

    @property
    def is_numeric(self) -> bool:
        return self.kind in ("integer", "number")


@dataclass(frozen=True)
class FeatureSchema:
    """The ordered input features of a model, plus its target."""

    features: list[Feature]
    target: str
    classes: list[str] = field(default_factory=list)
    #: the name of one input record in the API (its OpenAPI schema)
    record: str = "Record"
    #: what the model predicts: ``binary``, ``multiclass`` or ``regression``
    #: (:mod:`nbprod.data.model_kinds`); models stored before the field are binary
    model_kind: str = BINARY

    def __post_init__(self) -> None:
        check_model_kind(self.model_kind, "feature schema model_kind")

    @property
    def names(self) -> list[str]:
        return [f.name for f in self.features]

    def by_kind(self, *kinds: str) -> list[str]:
        return [f.name for f in self.features if f.kind in kinds]

    def example(self) -> dict[str, Any]:
        return {f.name: f.example for f in self.features}

    def to_dict(self) -> dict[str, Any]:
        return _drop_none(asdict(self))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FeatureSchema:
        try:
            feats = [Feature(**f) for f in data["features"]]
            return cls(features=feats, target=data["target"],
                       classes=[str(c) for c in data.get("classes", [])],
                       record=str(data.get("record", "Record")),
                       model_kind=str(data.get("model_kind", BINARY)))
        except (KeyError, TypeError) as exc:
            raise ConfigError(f"not a valid feature schema: {exc}") from None

    def save(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.to_dict(), indent=2) + "\n")

    @classmethod
    def load(cls, path: str | Path) -> FeatureSchema:
        return cls.from_dict(json.loads(Path(path).read_text()))


def derive_feature_schema(
    frame: pd.DataFrame,
    declared: ColumnTable | dict[str, dict[str, Any]],
    target: str | None = None,
) -> FeatureSchema:
    """Build the schema of every declared column but the target.

    The declaration is the contract: kinds, categories, ranges and nullability come from
    it (a column declared nullable accepts null when serving, whether or not the training
    rows had a blank), so the API, batch scoring and the stored schema accept exactly the
    data the pipeline validated. Only the example value comes from ``frame``.
    ``declared`` is a :class:`~nbprod.data.columns.ColumnTable` (or a plain name -> declaration
    mapping with ``target`` given).
    """
    record, kind = "Record", BINARY
    classes: list[str] = []
    if isinstance(declared, ColumnTable):
        table = declared
        target, record, classes, kind = table.target, table.record, table.classes, table.kind
        declared = table.declared()
    elif target is None:
        raise ConfigError("derive_feature_schema: give the target with a plain declaration")
    elif target in declared:
        classes = [str(c) for c in declared[target].get("categories", [])]
    missing = [c for c in declared if c not in frame.columns]
    if missing:
        raise ConfigError(f"declared column(s) {missing} are not in the training frame")
    features = []
    for name, spec in declared.items():
        if name == target:
            continue
        col = frame[name]
        features.append(
            Feature(
                name=name,
                kind=spec["kind"],
                categories=list(spec["categories"]) if "categories" in spec else None,
                min=spec.get("min", 0 if spec["kind"] == "binary" else None),
                max=spec.get("max", 1 if spec["kind"] == "binary" else None),
                nullable=bool(spec.get("nullable", False)),
                example=_python(col.mode(dropna=True).iloc[0]) if col.notna().any() else None,
                unit=spec.get("unit"),
                missing=list(spec["missing"]) if spec.get("missing") else None,
                max_length=spec.get("max_length"),
                format=spec.get("format"),
            )
        )
    return FeatureSchema(features=features, target=target, classes=classes, record=record,
                         model_kind=kind)


def reference_statistics(frame: pd.DataFrame, schema: FeatureSchema, bins: int = 10) -> dict:
    """Per-feature statistics of the training frame, for drift detection later.

    Categorical and binary features: the share of each category. Numeric features:
    decile bin edges, the share in each bin, and mean, std, min, max; a datetime feature
    the same of its days since 1970 (``of: days``), a text feature of its length
    (``of: length``) plus the shares of its hashed words (:mod:`nbprod.data.token_drift`).
    The values are binned
    as drift bins them later (:func:`nbprod.data.drift.binner`).
    """
    stats: dict[str, Any] = {}
    for feat in schema.features:
        col = frame[feat.name]
        if feat.is_numeric or feat.kind in MEASURED:
            values = (pd.Series(measure(MEASURED[feat.kind], col, feat.format)).dropna()
                      if feat.kind in MEASURED else col.dropna().astype("float64"))
            ref: dict[str, Any] = {"type": "numeric",
                                   "bin_edges": quantile_edges(values.to_numpy(), bins),
                                   **({"of": MEASURED[feat.kind]} if feat.kind in MEASURED else {}),
                                   **({"format": feat.format} if feat.format else {})}
            # a date or a text is binned by its measure: count the values, not the measures
            counts = bin_counts(col.tolist() if feat.kind in MEASURED else values.to_numpy(), ref)
            stats[feat.name] = {
                **ref,
                "frequencies": [float(c) / max(len(values), 1) for c in counts],
                "mean": float(values.mean()),
                "std": float(values.std(ddof=0)),
                "min": float(values.min()),
                "max": float(values.max()),
                "missing": float(col.isna().mean()),
            }
            if feat.kind == "text":  # bucket shares of its words, no word kept
                stats[feat.name][TOKENS] = token_reference(col.tolist())
        else:
            cats = [str(c) for c in feat.categories or (0, 1)]
            ref = {"type": "categorical", "frequencies": dict.fromkeys(cats, 0.0)}
            counts = bin_counts(col.tolist(), ref)
            total = max(float(counts.sum()), 1.0)
            stats[feat.name] = {
                "type": "categorical",
                "frequencies": {c: float(n) / total for c, n in zip(cats, counts[:len(cats)],
                                                                    strict=True)},
                "missing": float(col.isna().mean()),
            }
    stats["_rows"] = int(len(frame))
    return stats


def _python(value: Any) -> Any:
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def _drop_none(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _drop_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_drop_none(v) for v in value]
    return value
