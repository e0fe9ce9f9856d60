"""The generic BentoML service: any registered nbprod model, with its own field names.

A project needs no service code: its ``bentofile.yaml`` says
``service: "nbprod.serving.service:ModelService"``. Everything project-specific comes from the
model the service serves:

- which model: the bento argument ``model_tag`` (``bentoml build --arg model_tag=name:version``,
  as ``nbprod bento`` does), else ``$NBPROD_MODEL_TAG``, else the version the pipeline
  registered in ``products/model/registration.json`` (its production version when the gate
  refused that one); see :func:`nbprod.serving.predictor.model_tag`. The tag is declared at class
  level so ``bentoml build`` bundles exactly that version in the bento;
- the input record: named (``record`` in ``columns.yaml``, e.g. ``Customer``) and typed from
  the feature schema stored with the model, so the OpenAPI page documents the real fields
  and bad input is a 400 naming the field;
- the service name: the bento argument ``service_name`` (``nbprod bento`` passes the
  ``name`` of ``bentofile.yaml``), else that file in the working directory, else the model
  name.

Endpoints (all POST, JSON in and out; ``/docs`` shows the generated schemas), for a record
called ``Customer``:

- ``/predict`` ``{"customer": {...}}``: the answer of the model's kind (:mod:`nbprod.serving.answers`:
  probability and label at the threshold; the class and each class's probability; the
  predicted value and its interval), the model version and a request id; concurrent
  requests share a model call (:mod:`nbprod.serving.batcher`); answered in front of
  BentoML's router, inside the service's middlewares (:mod:`nbprod.serving.direct_route`);
- ``/predict_batch`` ``{"customers": [...]}``: 1 to ``MAX_BATCH_SIZE`` records, one
  prediction each; BentoML's adaptive batching merges concurrent requests into one model
  call;
- ``/metadata``: the model version, its held-out metrics and its lineage;
- ``/feedback``: true labels of earlier predictions (0/1, a class, a number), for the live
  performance (:mod:`nbprod.monitoring.live_scores`).

Tuning for load (measured in BENCHMARKS.md, "Serving"): a long ``max_latency_ms`` so the
batcher queues requests instead of answering 503, greedy dispatch (no learned wait), no
access log, one DataFrame per batch, long-lived objects frozen out of the garbage collector.
The workarounds of BentoML's bugs are in :mod:`nbprod.compat.bentoml` and
:mod:`nbprod.compat.bentoml_metrics`.
"""

from __future__ import annotations

import gc
import inspect
import logging
import os
import re
import sys
import threading
from pathlib import Path
from typing import Annotated, Any

import bentoml
from bentoml.exceptions import InvalidArgument
from pydantic import Field

from ..compat.bentoml import (
    bounded_endpoint_labels,
    fixed_list_media_type,
    greedy_batching,
    quiet_client_errors,
    released_timeouts,
)
from ..compat.bentoml_metrics import own_metrics_folder
from ..data.drift import PREDICTION_REFERENCE
from ..data.model_kinds import BINARY, MULTICLASS
from ..errors import ConfigError, FeedbackError, PredictionError, StorageError
from ..model.trust import project_trust
from ..monitoring.config import MonitorConfig
from ..monitoring.live_scores import feedback_label_model
from ..monitoring.monitor import Monitor, finite_or_none
from ..registry.store import feature_schema, verify_servable
from ..settings import env_positive
from .answers import answer_model, outcome
from .api_page import ApiPageMiddleware
from .batcher import Batcher
from .direct_route import DirectRoute, DirectRouteMiddleware, direct_route_enabled
from .exposure import refuse_exposed
from .guard import GuardMiddleware, guard_settings
from .predictor import Predictor, ServingMiddleware, input_model, model_tag
from .tracing import excluded_from_tracing

try:
    #: API key, body size, concurrency and time limits from the environment (README
    #: "Reliability"); a service bound beyond loopback without $NBPROD_API_KEY refuses to start.
    GUARD = guard_settings()
    #: Prediction log, drift and live accuracy settings (README "Monitoring"); checked here, so
    #: a log folder that is relative, in the model store or a bento, or cannot be written stops
    #: `bentoml serve` with one line before it serves.
    MONITOR = MonitorConfig.from_env()
except ConfigError as exc:
    raise SystemExit(f"error: {exc}") from None
#: Seconds a client waits before sending labels again that a full disk kept from being stored.
STORAGE_RETRY_AFTER = 30
log = logging.getLogger(__name__)
#: Where `bentoml serve` binds unless told otherwise (--host, $BENTOML_HOST): loopback only.
HOST, PORT = "127.0.0.1", 3000

ARGUMENTS = bentoml.use_arguments()
MODEL_TAG = model_tag(argument=getattr(ARGUMENTS, "model_tag", None))
#: What the model may hold (the project's trust.yaml, which the bento includes), read here,
#: where the working folder is the project's or the bento's.
try:
    TRUST = project_trust()
except ConfigError as exc:  # a broken trust.yaml: one line, before any worker starts
    raise SystemExit(f"error: cannot serve {MODEL_TAG}: {exc}") from None
verify_servable(MODEL_TAG, TRUST)  # a broken stored model stops `bentoml serve` with one line, before workers
SCHEMA = feature_schema(MODEL_TAG)
Record = input_model(SCHEMA, SCHEMA.record)
Label = feedback_label_model(SCHEMA)
#: One answer of /predict, by the model's kind (nbprod.serving.answers)
Prediction = answer_model(SCHEMA)


def service_name(argument: str | None, model: str, bentofile: Path = Path("bentofile.yaml")) -> str:
    """The service's name: the bento argument, else ``bentofile.yaml``'s ``name``, else the model's."""
    if argument:
        return argument
    if bentofile.is_file():
        import yaml

        name = (yaml.safe_load(bentofile.read_text()) or {}).get("name")
        if name:
            return str(name)
    return model


def parameter_names(record: str) -> tuple[str, str]:
    """The JSON field of one record and of a list of them: ``Customer`` -> customer, customers."""
    one = re.sub(r"(?<!^)(?=[A-Z])", "_", record).lower()
    return one, one + ("es" if one.endswith(("s", "x", "z", "ch", "sh")) else "s")


NAME = service_name(getattr(ARGUMENTS, "service_name", None), MODEL_TAG.partition(":")[0])
ONE, MANY = parameter_names(SCHEMA.record)
#: Most records in one /predict_batch request, and in one model call (1: no batching).
MAX_BATCH_SIZE = env_positive("NBPROD_MAX_BATCH_SIZE", int, 256)
#: Worker processes (each loads the model once).
WORKERS = env_positive("NBPROD_WORKERS", int, 1)
#: How long a request may wait in the batcher before being dropped with a 503. The
#: default batcher drops requests once its latency estimate passes this bound; a long
#: bound makes it queue them instead, and the traffic timeout still caps a request.
MAX_LATENCY_MS = 30_000
#: BentoML's batcher for /predict_batch (it takes at least 2 records a call), unless 1.
BATCHING = ({"batchable": True, "max_batch_size": MAX_BATCH_SIZE,
             "max_latency_ms": MAX_LATENCY_MS} if MAX_BATCH_SIZE > 1 else {})
API_ROUTES = ("/predict", "/predict_batch", "/metadata", "/feedback")
#: Routes no OpenTelemetry span is made for unless a tracing exporter is configured
#: (:mod:`nbprod.serving.tracing`).
TRACING_EXCLUDED = excluded_from_tracing(["/predict", "/predict_batch"], os.environ)
#: The paths the server answers besides the API: BentoML's health, metrics and API page.
SERVER_ROUTES = frozenset({"/livez", "/readyz", "/healthz", "/metrics", "/docs.json", "/",
                           "/docs"})


def served(path: str) -> bool:
    """Whether the server serves ``path`` (its metrics label it by name; others as one)."""
    return path in API_ROUTES or path in SERVER_ROUTES or path.startswith("/static_content/")

Labels = Annotated[
    list[Label],  # type: ignore[valid-type]
    Field(min_length=1, max_length=10_000, description="true labels of earlier predictions"),
]
RecordBatch = Annotated[
    list[Record],  # type: ignore[valid-type]
    Field(min_length=1, max_length=MAX_BATCH_SIZE, description="1 to MAX_BATCH_SIZE records"),
]


def _named(func: Any, api: str, name: str, annotation: Any, returns: Any) -> Any:
    """``func(self, value)`` as API ``api`` with its parameter called ``name`` (the request's
    JSON field), so the field is named after the record without code per project."""
    func.__name__ = func.__qualname__ = api
    func.__signature__ = inspect.Signature(
        [inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD),
         inspect.Parameter(name, inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=annotation)],
        return_annotation=returns,
    )
    return func


def _value(args: tuple, kwargs: dict) -> Any:
    return args[0] if args else next(iter(kwargs.values()))


async def _predict_one(self: Any, *args: Any, **kwargs: Any) -> Any:
    """The model's answer for one record (by kind: probability and label, class
    probabilities, or the predicted value), the model version and a request id (concurrent
    requests share a model call)."""
    return await self._batcher(_value(args, kwargs))


def _predict_batch(self: Any, *args: Any, **kwargs: Any) -> list[Any]:
    """One prediction per record, in order (concurrent requests share a model call)."""
    return self._predict(_value(args, kwargs))


@bentoml.service(
    name=NAME,
    workers=WORKERS,
    threads=1,
    traffic={"timeout": 60},
    http={"host": HOST, "port": PORT},
    logging={"access": {"enabled": False}},
    tracing={"excluded_urls": TRACING_EXCLUDED},
)
class ModelService:
    """The registered model's probability for a record, from the feature schema stored with it."""

    model = bentoml.models.BentoModel(MODEL_TAG)

    def __init__(self) -> None:
        self.predictor = Predictor.from_store(str(self.model.tag), TRUST)
        self.monitor = self._monitor(self.predictor)  # prediction log, drift, live accuracy
        # /predict's own batcher (BentoML batches only list inputs); one model call at a time
        # between it and BentoML's thread for /predict_batch
        self._batcher = Batcher(self._predict, MAX_BATCH_SIZE)
        if PREDICT_ROUTE is not None:  # /predict in front of BentoML's router, same call
            PREDICT_ROUTE.answer = self._answer_parsed
        self._model_lock = threading.Lock()
        # BentoML's bugs (nbprod.compat.bentoml): a batch dispatched as soon as the model is
        # free, each request freed when answered (not 60 s later), a client's 4xx one line,
        # one metrics label for every path it does not serve
        greedy_batching()
        released_timeouts()
        quiet_client_errors()
        bounded_endpoint_labels(served)
        # Long-lived objects (model, libraries) leave the garbage collector's generations:
        # full collections then scan only per-request garbage, which trims tail latency.
        gc.collect()
        gc.freeze()

    predict = bentoml.api(_named(_predict_one, "predict", ONE, Record, Prediction))
    predict_batch = bentoml.api(
        _named(_predict_batch, "predict_batch", MANY, RecordBatch,
               list[Prediction]),  # type: ignore[valid-type]
        **BATCHING,
    )

    @bentoml.api
    def metadata(self) -> dict[str, Any]:
        """The model version, its held-out metrics and its lineage."""
        return self.predictor.describe()

    @bentoml.api
    def feedback(self, labels: Labels, ctx: bentoml.Context) -> dict[str, Any]:
        """True labels for earlier predictions, by request_id; updates the live accuracy."""
        if self.monitor is None:
            raise InvalidArgument("monitoring is off (NBPROD_MONITORING=0): no feedback kept")
        target = SCHEMA.target
        try:
            scores = self.monitor.feedback(
                [(x.request_id, getattr(x, target)) for x in labels]  # type: ignore[attr-defined]
            )
        except FeedbackError as exc:
            raise InvalidArgument(str(exc)) from None
        except StorageError as exc:  # a full disk: one line here, a 503 the client can retry
            log.warning("%s", exc)
            ctx.response.status_code = 503
            ctx.response.headers["Retry-After"] = str(STORAGE_RETRY_AFTER)
            return {"error": "the labels cannot be stored now (the server's disk); no label "
                             f"was recorded: send them again in {STORAGE_RETRY_AFTER} s"}
        return {k: finite_or_none(v) for k, v in scores.items()}

    async def _answer_parsed(self, parsed: Any) -> Any:
        """/predict's answer for its parsed body (:mod:`nbprod.serving.direct_route`)."""
        return await self._batcher(getattr(parsed, ONE))

    @staticmethod
    def _monitor(predictor: Predictor) -> Monitor | None:
        config = MONITOR
        if not config.enabled:
            return None
        return Monitor(
            predictor.tag, predictor.metadata.get("reference_statistics") or {},
            predictor.classes[-1] if predictor.classes else "", config,
            worker=bentoml.server_context.worker_index or 0, kind=predictor.kind,
            classes=predictor.classes,
            prediction_reference=predictor.metadata.get(PREDICTION_REFERENCE),
        )

    @bentoml.on_shutdown
    def _close_monitor(self) -> None:
        self._batcher.close()
        if self.monitor is not None:
            self.monitor.close()

    def _predict(self, rows: list[Any]) -> list[Any]:
        with self._model_lock:
            return self._predict_locked(rows)

    def _predict_locked(self, rows: list[Any]) -> list[Any]:
        try:
            predictions = self.predictor.predict(rows)
        except PredictionError as exc:
            raise InvalidArgument(str(exc)) from None
        if self.monitor is not None:
            kind = self.predictor.kind
            if kind == BINARY:
                scores, labels = [p.probability for p in predictions], [p.label for p in predictions]
            elif kind == MULTICLASS:
                scores = [list(p.probabilities.__dict__.values()) for p in predictions]
                labels = [p.label for p in predictions]
            else:
                scores, labels = [outcome(kind, p) for p in predictions], None
            ids = self.monitor.record(rows, scores, labels)
            for prediction, rid in zip(predictions, ids, strict=True):
                prediction.request_id = rid
        return predictions


# Beyond loopback without a key: refuse, from the address BentoML really binds (its resolved
# configuration and command line in `bentoml serve`, the listening socket in a worker).
# One line and exit (SystemExit): a ConfigError here reached `bentoml serve TAG` wrapped in
# BentoML's "Attribute not found in module" when a module bears the bento's name.
try:
    refuse_exposed(ModelService, GUARD.api_key, sys.argv, os.environ)
except ConfigError as exc:
    raise SystemExit(f"error: {exc}") from None
# In a worker, before BentoML creates a metric: its server's own Prometheus folder, which
# another server started on the same store does not empty (nbprod.compat.bentoml_metrics).
own_metrics_folder()
# The first registered middleware is the outermost: the guards (key, size, load, time) run
# before the content-type check and before BentoML parses anything.
ModelService.add_asgi_middleware(GuardMiddleware, settings=GUARD)  # type: ignore[attr-defined]
ModelService.add_asgi_middleware(  # type: ignore[attr-defined]
    ServingMiddleware, version=MODEL_TAG, paths=API_ROUTES)
# The API page at / and /docs, offline (BentoML's own loads Google Tag Manager)
ModelService.add_asgi_middleware(  # type: ignore[attr-defined]
    ApiPageMiddleware, title=f"{NAME}: model {MODEL_TAG}", name=NAME, model=MODEL_TAG)
# /predict answered in front of BentoML's router, inside the middlewares above; off when
# spans are exported (BentoML's route makes them) or with NBPROD_DIRECT_ROUTE=0
PREDICT_ROUTE = (DirectRoute(
    "/predict", ModelService.apis["predict"].input_spec.model_validate_json,  # type: ignore[attr-defined]
    server=f"BentoML Service/{NAME}")
    if "/predict" in TRACING_EXCLUDED and direct_route_enabled(os.environ) else None)
if PREDICT_ROUTE is not None:
    ModelService.add_asgi_middleware(  # type: ignore[attr-defined]
        DirectRouteMiddleware, route=PREDICT_ROUTE)
# A list output's media type is otherwise derived from its JSON schema on every response.
fixed_list_media_type(ModelService, "predict_batch")
