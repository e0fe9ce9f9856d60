"""The generic part of serving a registered model: everything but the service class.

The BentoML service (``nbprod.service``) is thin; what it needs comes from here:

- :func:`model_tag`: which registered model version to serve (pinned, never "latest");
- :func:`input_model`: the pydantic input type generated from the feature schema stored
  with the model (names, kinds, categories, ranges, nullability, an example), so the
  OpenAPI page documents the real features and bad input is a 400 naming the field;
- :class:`Predictor`: the model, its schema and threshold, and a lean rows -> frame ->
  probabilities path (one DataFrame per batch, columns in schema order);
- :class:`ServingMiddleware`: a plain ASGI middleware that stamps the model version on
  every response, with BentoML's JSON contract fixed on the API routes.

The workarounds of BentoML's bugs it relies on are in :mod:`nbprod.compat.bentoml`.

Nothing here imports BentoML at module level or touches the model store on import.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, create_model

from .compat.bentoml import JsonApiMiddleware
from .errors import ModelStoreError, PredictionError
from .schema import Feature, FeatureSchema

log = logging.getLogger(__name__)

#: Environment variable naming the exact model tag to serve (overrides the registration file).
TAG_ENV = "NBPROD_MODEL_TAG"
#: Written by the pipeline's register step; holds ``{"tag": "name:version", ...}``.
REGISTRATION = Path("products") / "model" / "registration.json"
#: Response header carrying the served model's tag.
VERSION_HEADER = "x-model-version"


def model_tag(registration: str | Path = REGISTRATION, argument: str | None = None) -> str:
    """The exact model tag to serve.

    In order: ``argument`` (the bento argument ``model_tag``, frozen into a bento by
    ``bentoml build --arg model_tag=...``), ``$NBPROD_MODEL_TAG``, then the pipeline's
    registration file: the production version of the model it names (which `nbprod promote`
    and `nbprod rollback` change), or its tag when nothing was promoted yet. A tag without a version (``name`` or
    ``name:latest``) is refused: a service is pinned to the version it was tested with.
    """
    tag, source = (argument or "").strip(), "bento argument model_tag"
    if not tag:
        tag, source = os.environ.get(TAG_ENV, "").strip(), f"${TAG_ENV}"
    if not tag:
        tag, source = _registered_tag(Path(registration)), str(registration)
    name, _, version = tag.partition(":")
    if not name or not version or version == "latest":
        raise ModelStoreError(
            f"{source}: model tag {tag!r} must name an exact version (name:version), not the latest"
        )
    return tag


def _registered_tag(path: Path) -> str:
    try:
        registration = json.loads(path.read_text())
        tag = str(registration["tag"])
    except FileNotFoundError:
        raise ModelStoreError(
            f"{path} not found: train and register a model first (ploomber build), "
            f"or set {TAG_ENV}=name:version"
        ) from None
    except (ValueError, KeyError, TypeError) as exc:
        raise ModelStoreError(f"{path}: no model tag in it ({exc}); rerun the pipeline") from None
    from .lifecycle import production

    current = production(tag.partition(":")[0])
    if current is not None and str(current.tag) != tag:
        log.info("serving the production version %s (registered last: %s)", current.tag, tag)
        return str(current.tag)
    return tag


def _field_type(feature: Feature) -> Any:
    """The pydantic type of one feature: Literal for categories and 0/1, bounded numbers."""
    if feature.kind == "categorical":
        kind: Any = Literal[tuple(feature.categories)]  # type: ignore[arg-type]
        info = Field(description=_describe(feature, "one of the listed categories"))
    elif feature.kind == "binary":
        kind = int
        info = Field(
            ge=0, le=1, strict=True, json_schema_extra={"enum": [0, 1]},
            description=_describe(feature, "0 or 1"),
        )
    else:
        kind = int if feature.kind == "integer" else float
        info = Field(
            ge=feature.min,
            le=feature.max,
            strict=True,
            allow_inf_nan=False if kind is float else None,
            description=_describe(feature, f"{feature.kind} in [{feature.min}, {feature.max}]"),
        )
    annotated = Annotated[kind, info]
    return annotated | None if feature.nullable else annotated


def _describe(feature: Feature, what: str) -> str:
    unit = f", {feature.unit}" if feature.unit else ""
    null = "; may be null" if feature.nullable else ""
    return f"{feature.name}: {what}{unit}{null}"


def input_model(schema: FeatureSchema, name: str = "Features") -> type[BaseModel]:
    """A pydantic model for one row of ``schema``: every feature required, nothing else allowed.

    NaN and infinities are rejected, numbers must be JSON numbers (no "5" strings), 0/1
    flags must be 0 or 1 (not true/false), categories must be one of the declared ones.
    """
    fields = {f.name: (_field_type(f), ...) for f in schema.features}
    config = ConfigDict(
        extra="forbid",
        allow_inf_nan=False,
        json_schema_extra={"example": schema.example()},
    )
    return create_model(name, __config__=config, **fields)  # type: ignore[call-overload]


class Prediction(BaseModel):
    """The model's answer for one row."""

    probability: float = Field(description="probability of the positive class")
    label: str = Field(description="the predicted class at the model's threshold")
    threshold: float = Field(description="probability at or above which the label is positive")
    model_version: str = Field(description="tag of the model that answered (name:version)")
    request_id: str | None = Field(
        default=None, description="id of this prediction, to send its true label to /feedback"
    )


class Predictor:
    """A loaded model with what serving it needs: its schema, threshold and version."""

    def __init__(
        self,
        model: Any,
        schema: FeatureSchema,
        tag: str,
        threshold: float = 0.5,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        self.model = model
        self.schema = schema
        self.tag = tag
        self.threshold = float(threshold)
        self.metadata = dict(metadata or {})
        self.columns = schema.names
        self._nullable = [f.name for f in schema.features if f.nullable]
        self.classes = list(schema.classes) or ["0", "1"]

    @classmethod
    def from_store(cls, tag: str) -> Predictor:
        """Load ``tag`` from the BentoML store (sha256-checked) with its stored schema."""
        from .registry import get_model, load_artifact, schema_of, threshold_of

        stored = get_model(tag)
        return cls(load_artifact(stored), schema_of(stored), str(stored.tag),
                   threshold_of(stored), dict(stored.info.metadata))

    def frame(self, rows: Sequence[BaseModel | dict[str, Any]]) -> pd.DataFrame:
        """One DataFrame for all ``rows``, built column by column in schema order."""
        if rows and isinstance(rows[0], BaseModel):
            data = {c: [getattr(r, c) for r in rows] for c in self.columns}
        else:
            data = {c: [r[c] for r in rows] for c in self.columns}  # type: ignore[index]
        for c in self._nullable:  # JSON null as the NaN the model was trained with
            data[c] = [np.nan if v is None else v for v in data[c]]
        return pd.DataFrame(data, columns=self.columns)

    def probabilities(self, frame: pd.DataFrame) -> np.ndarray:
        """P(positive class) for each row; a model failure becomes :class:`PredictionError`."""
        try:
            proba = np.asarray(self.model.predict_proba(frame))[:, 1]
        except Exception as exc:  # the model's own errors, whatever their type
            raise PredictionError(
                f"model {self.tag} could not score the input: {type(exc).__name__}: {exc}"
            ) from exc
        if not np.all(np.isfinite(proba)):
            bad = int(np.flatnonzero(~np.isfinite(proba))[0])
            raise PredictionError(
                f"model {self.tag} returned a non-finite probability for row {bad}"
            )
        return proba

    def predict(self, rows: Sequence[BaseModel | dict[str, Any]]) -> list[Prediction]:
        """Score ``rows`` in one model call."""
        if not rows:
            return []
        proba = self.probabilities(self.frame(rows))
        negative, positive = self.classes[0], self.classes[-1]
        return [
            Prediction.model_construct(
                probability=p,
                label=positive if p >= self.threshold else negative,
                threshold=self.threshold,
                model_version=self.tag,
            )
            for p in proba.tolist()
        ]

    def describe(self) -> dict[str, Any]:
        """What the metadata endpoint returns: version, threshold, metrics and lineage."""
        meta = self.metadata
        return {
            "model_version": self.tag,
            "threshold": self.threshold,
            "features": self.columns,
            "metrics": meta.get("metrics", {}),
            "lineage": {
                k: meta[k]
                for k in ("parameters", "git", "data", "notebooks", "versions", "artifact")
                if k in meta
            },
        }


class ServingMiddleware:
    """ASGI middleware: the model version header on every response; on the API routes
    (``paths``), BentoML's JSON contract fixed (:class:`nbprod.compat.bentoml.JsonApiMiddleware`:
    415 to a body that is not JSON in UTF-8, every 4xx error a JSON object)."""

    def __init__(self, app: Any, version: str, paths: Sequence[str] = ()) -> None:
        self.app = JsonApiMiddleware(app, paths)
        self.header = (VERSION_HEADER.encode(), version.encode())

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_version(message: dict) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), self.header]
            await send(message)

        await self.app(scope, receive, send_with_version)
