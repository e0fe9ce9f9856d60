"""The generic part of serving a registered model: everything but the service class.

The BentoML service (``nbprod.service``) is thin; what it needs comes from here:

- :func:`model_tag`: which registered model version to serve (pinned, never "latest");
- :func:`input_model`: the pydantic input type generated from the feature schema stored
  with the model (names, kinds, categories, ranges, nullability, an example), so the
  OpenAPI page documents the real features and bad input is a 400 naming the field;
- :class:`Predictor`: the model, its schema and threshold, and a lean rows -> frame ->
  answers path (one DataFrame per batch, columns in schema order; the answer per model
  kind is :mod:`nbprod.answers`);
- :func:`greedy_batching`: BentoML's batcher without its self-inflating wait;
- :func:`released_timeouts`: BentoML's request timeout without its per-request memory hold;
- :func:`quiet_client_errors`: a client's mistake logged as one warning line, not an error
  with a traceback;
- :class:`ServingMiddleware`: a plain ASGI middleware that stamps the model version on
  every response, rejects request bodies that are not JSON in UTF-8 (415) before parsing,
  and turns BentoML's ``[{"error": ...}]`` 4xx bodies into objects (:func:`unwrap_error`).

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
from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model

from .answers import (
    Prediction,
    answer_model,
    class_columns,
    gives_interval,
    multiclass_answers,
    regression_answers,
)
from .asgi import header, respond
from .errors import ModelStoreError, PredictionError
from .model_kinds import BINARY, MULTICLASS
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
        kind: Any = Literal[tuple(feature.categories)]  # type: ignore[valid-type]
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
        self.kind = schema.model_kind
        self.classes = list(schema.classes) or (["0", "1"] if self.kind == BINARY else [])
        #: the pydantic type of one answer (:mod:`nbprod.answers`)
        self.answer = answer_model(schema)
        self._interval = self.kind not in (BINARY, MULTICLASS) and gives_interval(model)
        #: the model's predict_proba columns in the order of ``classes`` (checked at load)
        self._class_columns = class_columns(model, self.classes) if self.kind == MULTICLASS \
            else None

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

    def _call(self, method: str, frame: pd.DataFrame, **kwargs: Any) -> Any:
        """The model's ``method`` on ``frame``; its failure becomes :class:`PredictionError`."""
        try:
            return getattr(self.model, method)(frame, **kwargs)
        except Exception as exc:  # the model's own errors, whatever their type
            raise PredictionError(
                f"model {self.tag} could not score the input: {type(exc).__name__}: {exc}"
            ) from exc

    def _finite(self, values: np.ndarray, what: str) -> np.ndarray:
        if not np.all(np.isfinite(values)):
            bad = int(np.flatnonzero(~np.isfinite(values).reshape(len(values), -1).all(1))[0])
            raise PredictionError(f"model {self.tag} returned a non-finite {what} for row {bad}")
        return values

    def probabilities(self, frame: pd.DataFrame) -> np.ndarray:
        """P(positive class) for each row; a model failure becomes :class:`PredictionError`."""
        proba = np.asarray(self._call("predict_proba", frame))[:, 1]
        return self._finite(proba, "probability")

    def class_probabilities(self, frame: pd.DataFrame) -> np.ndarray:
        """P(class) per row, one column per class in the order of the schema's ``classes``."""
        proba = np.asarray(self._call("predict_proba", frame), dtype="float64")
        return self._finite(proba[:, self._class_columns], "probability")

    def values(self, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray | None]:
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
        frame = self.frame(rows)
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
            "lineage": {
                k: meta[k]
                for k in ("parameters", "git", "data", "notebooks", "versions", "artifact")
                if k in meta
            },
        }


def greedy_batching() -> None:
    """Make BentoML's adaptive batcher dispatch as soon as the model is free.

    BentoML 1.4's batcher (``CorkDispatcher``) holds a request back for about the average
    time earlier requests waited (``Optimizer.wait``) to gather a bigger batch. That
    estimate feeds on itself: after a burst of traffic, a lone request keeps waiting the
    burst's queueing time (measured here: p50 at one client went from 16 ms to 65-100 ms
    after 5 s at 128 clients, still high 16 s later; see BENCHMARKS.md). With one model
    call at a time, holding back buys nothing: requests that arrive while a batch runs
    form the next batch anyway. This pins the learned wait at zero; everything else
    (queueing, batch size limit, the latency bound) stays BentoML's. It touches a
    private class, so tests/unit/test_serving.py checks it against the pinned BentoML.
    """
    from bentoml._internal.marshal.dispatcher import Optimizer

    if getattr(Optimizer.trigger_refresh, "_nbprod_greedy", False):
        return
    refresh = Optimizer.trigger_refresh

    def trigger_refresh(self: Any) -> None:
        refresh(self)
        self.wait = 0.0

    trigger_refresh._nbprod_greedy = True  # type: ignore[attr-defined]
    Optimizer.trigger_refresh = trigger_refresh  # type: ignore[method-assign]


def released_timeouts() -> None:
    """Make BentoML's request timeout let go of each request as soon as it is answered.

    BentoML 1.4's ``TimeoutMiddleware`` arms ``loop.call_later(timeout, ...)`` for every
    request and never cancels it. The pending timer holds the request's context (its
    OpenTelemetry span, a future, about 4.5 KB) for the whole timeout after the response:
    at 800 requests/s and the 60 s traffic timeout that is some 200 MB before memory
    levels off (measured with ``benchmarks/soak.py``; see BENCHMARKS.md). This replaces
    its ``__call__`` with the same logic plus ``cancel()`` of the timer when the request
    ends; the 504 on timeout is unchanged. It touches a private class, so
    tests/unit/test_serving.py checks it against the pinned BentoML.
    """
    import asyncio

    from bentoml._internal.server.http.traffic import TimeoutMiddleware
    from starlette.responses import JSONResponse

    if getattr(TimeoutMiddleware.__call__, "_nbprod_released", False):
        return

    async def __call__(self: Any, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] not in ("http", "websocket"):
            return await self.app(scope, receive, send)
        loop = asyncio.get_running_loop()
        waiter = loop.create_future()
        timer = loop.call_later(self.timeout, self._set_timer_out, waiter)

        async def started(message: dict) -> None:
            if not waiter.done():
                waiter.set_result(None)
            await send(message)

        task = asyncio.ensure_future(self.app(scope, receive, started))
        try:
            await waiter
        except TimeoutError:
            if task.cancel():
                await JSONResponse(
                    {"error": f"Not able to process the request in {self.timeout} seconds"},
                    status_code=504,
                )(scope, receive, send)
        else:
            await task
        finally:
            timer.cancel()

    __call__._nbprod_released = True  # type: ignore[attr-defined]
    TimeoutMiddleware.__call__ = __call__  # type: ignore[method-assign]


#: The logger BentoML 1.4 reports every failed request to, at ERROR with a traceback.
REQUEST_ERROR_LOGGER = "bentoml._internal.server.http_app"


def client_error(exc: BaseException | None) -> tuple[int, str] | None:
    """(status, one-line summary) when ``exc`` is the client's mistake (a 4xx), else None.

    The summary names the fields and what is wrong with them, never the values sent (which
    may be personal data).
    """
    from bentoml.exceptions import BentoMLException

    if isinstance(exc, ValidationError):
        problems = exc.errors(include_input=False, include_context=False, include_url=False)
        parts = [f"{'.'.join(map(str, p['loc'])) or 'body'}: {p['msg']}" for p in problems[:5]]
        more = f" (+{len(problems) - 5} more)" if len(problems) > 5 else ""
        return 400, "; ".join(parts) + more
    if isinstance(exc, BentoMLException) and exc.error_code.value < 500:
        return int(exc.error_code.value), str(exc).splitlines()[0][:500]
    return None


class ClientErrorFilter(logging.Filter):
    """Rewrite BentoML's ERROR-with-traceback for a 4xx into one WARNING line.

    BentoML logs every failed request the same way, so a client sending bad input fills the
    log with tracebacks that read like server faults. Server errors (5xx) pass unchanged.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        known = client_error(record.exc_info[1]) if record.exc_info else None
        if known is None:
            return True
        status, summary = known
        path = record.args[0] if isinstance(record.args, tuple) and record.args else "?"
        record.levelno, record.levelname = logging.WARNING, "WARNING"
        record.msg, record.args = "%s on %s: %s", (status, path, summary)
        record.exc_info = record.exc_text = None
        return True


def quiet_client_errors() -> None:
    """Install :class:`ClientErrorFilter` on BentoML's request error logger (idempotent)."""
    logger = logging.getLogger(REQUEST_ERROR_LOGGER)
    if not any(isinstance(f, ClientErrorFilter) for f in logger.filters):
        logger.addFilter(ClientErrorFilter())


def media_type(value: bytes) -> tuple[bytes, dict[bytes, bytes]]:
    """A Content-Type header split into its media type and parameters (lower-case names)."""
    kind, *params = value.split(b";")
    pairs = (p.partition(b"=") for p in params if p.strip())
    return kind.strip().lower(), {k.strip().lower(): v.strip().strip(b'"') for k, _, v in pairs}


def content_type_problem(value: bytes) -> str | None:
    """Why a request body of this Content-Type is refused (415), or None for JSON in UTF-8.

    JSON is UTF-8 (RFC 8259); a body declared in another charset would be parsed as UTF-8
    all the same, so it is refused rather than misread.
    """
    kind, params = media_type(value)
    if kind != b"application/json":
        return f"Content-Type must be application/json, got {kind.decode('latin-1') or 'none'}"
    charset = params.get(b"charset", b"utf-8").lower()
    if charset not in (b"utf-8", b"utf8"):
        return f"JSON must be UTF-8, got charset={charset.decode('latin-1')}"
    return None


def unwrap_error(body: bytes) -> bytes | None:
    """BentoML 1.4's 4xx body ``[{"error": ...}]`` as ``{"error": ...}``; None if not one.

    ``ServiceAppFactory.api_endpoint_wrapper`` builds its 4xx answer to a ``BentoMLException``
    from a one-element tuple, ``({"error": str(exc)},)``, so those errors (a refused
    ``/feedback``, a model that cannot score) came as a JSON array, unlike every other error.
    tests/unit/test_serving.py shows the bug on the pinned BentoML.
    """
    try:
        parsed = json.loads(body)
    except ValueError:
        return None
    if isinstance(parsed, list) and len(parsed) == 1 and isinstance(parsed[0], dict) \
            and "error" in parsed[0]:
        return json.dumps(parsed[0]).encode()
    return None


class ServingMiddleware:
    """ASGI middleware: the model version header on every response, 415 to a body that is not
    JSON in UTF-8 (before parsing), and every 4xx error of an API route a JSON object.

    BentoML falls back to its JSON parser for any unknown content type; this makes the
    contract explicit. Only ``paths`` (the API routes) are checked for their content type.
    """

    def __init__(self, app: Any, version: str, paths: Sequence[str] = ()) -> None:
        self.app = app
        self.header = (VERSION_HEADER.encode(), version.encode())
        self.paths = frozenset(paths)

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        api = scope["path"] in self.paths
        if scope["method"] == "POST" and api:
            problem = content_type_problem(header(scope, b"content-type"))
            if problem is not None:
                await respond(send, 415, problem, [self.header])
                return
        held: dict | None = None  # a 4xx start, held until its body says what it is
        chunks: list[bytes] = []

        async def send_with_version(message: dict) -> None:
            nonlocal held
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), self.header]
                if api and 400 <= message["status"] < 500:
                    held = message
                    return
            elif held is not None and message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
                if message.get("more_body", False):
                    return
                body = b"".join(chunks)
                body = unwrap_error(body) or body
                held["headers"] = [(k, v) for k, v in held["headers"] if k.lower() !=
                                   b"content-length"] + [(b"content-length",
                                                          str(len(body)).encode())]
                start, held = held, None
                await send(start)
                message = {"type": "http.response.body", "body": body}
            await send(message)

        await self.app(scope, receive, send_with_version)
