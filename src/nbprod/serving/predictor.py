"""The generic part of serving a registered model: everything but the service class.

The BentoML service (``nbprod.serving.service``) is thin; what it needs comes from here:

- :func:`model_tag`: which registered model version to serve (pinned, never "latest");
- :func:`input_model`: the pydantic input type generated from the feature schema stored
  with the model (names, kinds, categories, ranges, nullability, an example), so the
  OpenAPI page documents the real features and bad input is a 400 naming the field;
- :class:`Predictor`: the model, its schema and threshold, and a lean rows -> frame ->
  answers path (one DataFrame per batch, columns in schema order; the answer per model
  kind is :mod:`nbprod.serving.answers`);
- :class:`ServingMiddleware`: a plain ASGI middleware that stamps the model version on
  every response, with BentoML's JSON contract fixed on the API routes.

The workarounds of BentoML's bugs it relies on are in :mod:`nbprod.compat.bentoml`.

Nothing here imports BentoML at module level or touches the model store on import.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
import pandas as pd
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, create_model

from ..compat.bentoml import JsonApiMiddleware
from ..data.cleaning import Cleaning, apply_cleaning, cleaning_name, load_cleaning
from ..data.frames import model_frame
from ..data.model_kinds import BINARY, MULTICLASS
from ..data.schema import Feature, FeatureSchema
from ..errors import ModelStoreError, PredictionError
from ..model.trust import Trust
from . import free_fields
from .answers import (
    Prediction,
    answer_model,
    class_columns,
    gives_interval,
    multiclass_answers,
    regression_answers,
)

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
    from ..registry.lifecycle import production

    current = production(tag.partition(":")[0])
    if current is not None and str(current.tag) != tag:
        log.info("serving the production version %s (registered last: %s)", current.tag, tag)
        return str(current.tag)
    return tag


def _field_type(feature: Feature) -> Any:
    """The pydantic type of one feature: Literal for categories and 0/1, bounded numbers,
    checked text for dates and free text (:mod:`nbprod.serving.free_fields`)."""
    if feature.kind in free_fields.KINDS:
        return free_fields.free_field(feature)
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
    if feature.missing:  # the raw file's strings for a blank are read as null here too
        blank = Annotated[Literal[tuple(feature.missing)],  # type: ignore[valid-type]
                          AfterValidator(_null)]
        return annotated | blank | None
    return annotated | None if feature.nullable else annotated


def _null(_: Any) -> None:
    return None


def _describe(feature: Feature, what: str) -> str:
    unit = f", {feature.unit}" if feature.unit else ""
    null = "; may be null" if feature.nullable else ""
    if feature.missing:
        null += f" (or {', '.join(map(repr, feature.missing))}, read as null)"
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


class Predictor:
    """A loaded model with what serving it needs: its schema, threshold and version."""

    def __init__(
        self,
        model: Any,
        schema: FeatureSchema,
        tag: str,
        threshold: float = 0.5,
        metadata: dict[str, Any] | None = None,
        clean: Cleaning | None = None,
        compiled: Any = None,
    ) -> None:
        self.model = model
        #: her cleaning step, run on every frame before the model (as the pipeline ran it)
        self.clean = clean
        self.schema = schema
        self.tag = tag
        self.threshold = float(threshold)
        self.metadata = dict(metadata or {})
        self.columns = schema.names
        self._nullable = [f.name for f in schema.features if f.nullable]
        self.kind = schema.model_kind
        self.classes = list(schema.classes) or (["0", "1"] if self.kind == BINARY else [])
        #: the pydantic type of one answer (:mod:`nbprod.serving.answers`)
        self.answer = answer_model(schema)
        self._interval = self.kind not in (BINARY, MULTICLASS) and gives_interval(model)
        #: the model's predict_proba columns in the order of ``classes`` (checked at load)
        self._class_columns = class_columns(model, self.classes) if self.kind == MULTICLASS \
            else None
        #: the compiled graph that answers instead of ``model`` (fed the rows' columns, no
        #: DataFrame), or None: :mod:`nbprod.model.compiling`
        self.compiled = None if self._interval else compiled

    @classmethod
    def from_store(cls, tag: str, trust: Trust | None = None) -> Predictor:
        """Load ``tag`` from the BentoML store (sha256-checked) with its stored schema,
        holding only what ``trust`` allows (the project's trust file by default)."""
        from ..registry.store import (
            get_model,
            load_artifact,
            load_compiled,
            schema_of,
            threshold_of,
        )

        stored = get_model(tag)
        metadata = dict(stored.info.metadata)
        clean = load_cleaning(metadata["cleaning"]) if metadata.get("cleaning") else None
        return cls(load_artifact(stored, trust), schema_of(stored), str(stored.tag),
                   threshold_of(stored), metadata, clean, load_compiled(stored))

    def _columns(self, rows: Sequence[BaseModel | dict[str, Any]]) -> dict[str, list[Any]]:
        """The values of ``rows`` per feature, in schema order, JSON null as NaN."""
        if rows and isinstance(rows[0], BaseModel):
            data = {c: [getattr(r, c) for r in rows] for c in self.columns}
        else:
            data = {c: [r[c] for r in rows] for c in self.columns}  # type: ignore[index]
        for c in self._nullable:  # JSON null as the NaN the model was trained with
            data[c] = [np.nan if v is None else v for v in data[c]]
        return data

    def frame(self, rows: Sequence[BaseModel | dict[str, Any]]) -> pd.DataFrame:
        """One DataFrame for all ``rows``, in schema order, with the dtypes of training
        (:func:`nbprod.data.frames.model_frame`), after her cleaning step if there is one."""
        frame = model_frame(self._columns(rows), self.schema.features)
        if self.clean is None:
            return frame
        return self._cleaned(self.clean, frame, lambda out: model_frame(out, self.schema.features))

    def inputs(self, rows: Sequence[BaseModel | dict[str, Any]]) -> Any:
        """What the model is fed for ``rows``: for the compiled graph, the columns themselves
        (after her cleaning step, which gets the frame of training, if there is one: its
        result's columns as lists, which the graph's feed converts), else :meth:`frame`."""
        if self.compiled is None:
            return self.frame(rows)
        columns = self._columns(rows)
        if self.clean is None:
            return columns
        frame = model_frame(columns, self.schema.features)
        return self._cleaned(self.clean, frame, self._as_columns)

    def _as_columns(self, frame: pd.DataFrame) -> dict[str, np.ndarray]:
        """``frame``'s model columns as arrays of Python values, as the service's rows give
        them (one conversion of the whole frame: a Series per column costs more)."""
        if list(frame.columns) != self.columns:
            frame = frame[self.columns]
        return dict(zip(self.columns, frame.to_numpy(dtype=object).T, strict=True))

    def _cleaned(self, clean: Cleaning, frame: pd.DataFrame,
                 then: Callable[[pd.DataFrame], Any]) -> Any:
        """``then`` of her cleaning step's result, which must hold every column of the model;
        a failure of either, or a column it lost, is a PredictionError."""
        name = cleaning_name(clean)
        try:
            out = apply_cleaning(clean, frame)
        except Exception as exc:  # her code's own errors, whatever their type
            raise PredictionError(f"the cleaning step {name} failed on the input: "
                                  f"{type(exc).__name__}: {exc}") from exc
        missing = [c for c in self.columns if c not in out.columns]
        if missing:
            raise PredictionError(f"the cleaning step {name} gave no column(s) {missing} of "
                                  "the model")
        try:
            return then(out)
        except Exception as exc:  # its result's values the model's dtypes cannot take
            raise PredictionError(f"the cleaning step {name} failed on the input: "
                                  f"{type(exc).__name__}: {exc}") from exc

    @property
    def path(self) -> str:
        """Which form answers: ``compiled`` (the ONNX graph) or ``artifact``."""
        return "compiled" if self.compiled is not None else "artifact"

    def _call(self, method: str, frame: Any, **kwargs: Any) -> Any:
        """The model's ``method`` on ``frame``; its failure becomes :class:`PredictionError`."""
        model = self.compiled if self.compiled is not None and not kwargs else self.model
        try:
            return getattr(model, method)(frame, **kwargs)
        except Exception as exc:  # the model's own errors, whatever their type
            raise PredictionError(
                f"model {self.tag} could not score the input: {type(exc).__name__}: {exc}"
            ) from exc

    def _finite(self, values: np.ndarray, what: str) -> np.ndarray:
        if not np.all(np.isfinite(values)):
            bad = int(np.flatnonzero(~np.isfinite(values).reshape(len(values), -1).all(1))[0])
            raise PredictionError(f"model {self.tag} returned a non-finite {what} for row {bad}")
        return values

    def probabilities(self, frame: Any) -> np.ndarray:
        """P(positive class) for each row; a model failure becomes :class:`PredictionError`."""
        proba = np.asarray(self._call("predict_proba", frame))[:, 1]
        return self._finite(proba, "probability")

    def class_probabilities(self, frame: Any) -> np.ndarray:
        """P(class) per row, one column per class in the order of the schema's ``classes``."""
        proba = np.asarray(self._call("predict_proba", frame), dtype="float64")
        return self._finite(proba[:, self._class_columns], "probability")

    def values(self, frame: Any) -> tuple[np.ndarray, np.ndarray | None]:
        """The predicted values, and their standard deviations when the model gives them."""
        if self._interval:
            mean, std = self._call("predict", frame, return_std=True)
            return (self._finite(np.asarray(mean, dtype="float64").ravel(), "prediction"),
                    self._finite(np.asarray(std, dtype="float64").ravel(), "deviation"))
        values = np.asarray(self._call("predict", frame), dtype="float64").ravel()
        return self._finite(values, "prediction"), None

    def predict(self, rows: Sequence[BaseModel | dict[str, Any]]) -> list[Any]:
        """Score ``rows`` in one model call: one answer of :attr:`answer`'s type per row."""
        if not rows:
            return []
        frame = self.inputs(rows)
        if self.kind == MULTICLASS:
            return multiclass_answers(self.answer, self.classes,
                                      self.class_probabilities(frame), self.tag)
        if self.kind != BINARY:
            return regression_answers(self.answer, *self.values(frame), self.tag)
        proba = self.probabilities(frame)
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
            "model_kind": self.kind,
            **({"classes": self.classes} if self.kind == MULTICLASS else {}),
            **({"threshold": self.threshold} if self.kind == BINARY else {}),
            "features": self.columns,
            "metrics": meta.get("metrics", {}),
            "served_from": self.path,
            "lineage": {
                k: meta[k]
                for k in ("model", "parameters", "git", "data", "notebooks", "versions",
                          "artifact", "compiled")
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
