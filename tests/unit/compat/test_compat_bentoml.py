"""The BentoML workarounds (nbprod.compat.bentoml): each bug shown on the pinned BentoML, then
fixed by its patch. A canary that fails on a new BentoML means the bug is gone: drop the patch."""

from __future__ import annotations

import functools
import warnings

import bentoml
import pytest
from bentoml.exceptions import InvalidArgument
from pydantic import BaseModel, ValidationError

from nbprod import compat
from nbprod.compat.bentoml import (
    WRITTEN_FOR,
    JsonApiMiddleware,
    content_type_problem,
    fixed_list_media_type,
    hidden_part,
    visible_build_context,
)
from nbprod.serving.predictor import VERSION_HEADER, ServingMiddleware
from projectkit import forget_bentoml_request_metrics

with warnings.catch_warnings():  # starlette announces a future switch of its test client
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient


class Item(BaseModel):
    i: int


@bentoml.service(name="canary")
class Canary:
    @bentoml.api
    def refuse(self) -> dict:
        raise InvalidArgument("no such request id")

    @bentoml.api
    def items(self, n: int) -> list[Item]:
        return [Item(i=i) for i in range(n)]


@functools.cache
def canary_app():
    """The service's ASGI app, made once: a second one re-registers BentoML's metrics (and
    an app another tier made in this process has registered them already)."""
    forget_bentoml_request_metrics()
    return Canary.to_asgi()


def test_the_pinned_bentoml_is_the_one_the_patches_were_written_for():
    assert compat.installed("bentoml") == WRITTEN_FOR


def test_a_patch_warns_once_on_another_version(monkeypatch):
    monkeypatch.setattr(compat, "_WARNED", set())
    with pytest.warns(compat.CompatWarning, match=r"patch_x was written for bentoml 0\.0\.1, but "
                      rf"bentoml {WRITTEN_FOR} is installed"):
        assert not compat.written_for("bentoml", "0.0.1", "patch_x")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert not compat.written_for("bentoml", "0.0.1", "patch_x")  # once: no second warning
        assert compat.written_for("bentoml", WRITTEN_FOR, "patch_x")
    with pytest.warns(compat.CompatWarning, match="nothere is not installed"):
        compat.written_for("nothere", "1.0", "patch_y")


def test_greedy_batching_keeps_bentoml_batcher_from_learning_a_wait():
    from bentoml._internal.marshal.dispatcher import Optimizer

    from nbprod.compat.bentoml import greedy_batching

    def learned_wait() -> float:
        optimizer = Optimizer(max_latency=30.0)
        for _ in range(optimizer.N_SKIPPED_SAMPLE + 10):  # batches that waited 50 ms each
            optimizer.log_outbound(n=32, wait=0.05, duration=0.01)
        optimizer.trigger_refresh()
        return optimizer.wait

    original = Optimizer.trigger_refresh
    try:
        assert learned_wait() == pytest.approx(0.05)  # BentoML's own behaviour, pinned 1.4
        greedy_batching()
        greedy_batching()  # idempotent
        assert learned_wait() == 0.0
        optimizer = Optimizer(max_latency=30.0)
        optimizer.log_outbound(n=1, wait=0.0, duration=0.01)
        assert optimizer.o_a > 0  # the rest of the optimizer still learns
    finally:
        Optimizer.trigger_refresh = original



def test_released_timeouts_frees_a_request_when_answered_and_still_answers_504():
    import asyncio
    import contextvars
    import gc
    import weakref

    from bentoml._internal.server.http.traffic import TimeoutMiddleware

    from nbprod.compat.bentoml import released_timeouts

    span: contextvars.ContextVar = contextvars.ContextVar("span")

    class Span:  # what an outer middleware (BentoML's tracing) leaves in the context
        pass

    async def app(scope, receive, send):
        if scope["path"] == "/slow":
            await asyncio.sleep(5)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    async def serve(timeout: float, path: str) -> tuple[list[int], bool]:
        """One request through the middleware in a context holding a Span: (statuses,
        whether the Span is still alive once the request is answered)."""
        statuses: list[int] = []

        async def receive():
            return {"type": "http.request", "body": b""}

        async def send(message):
            if message["type"] == "http.response.start":
                statuses.append(message["status"])

        async def request() -> weakref.ref:
            held = Span()
            span.set(held)
            await TimeoutMiddleware(app, timeout=timeout)(
                {"type": "http", "path": path, "method": "GET", "headers": []}, receive, send)
            return weakref.ref(held)

        ref = await asyncio.create_task(request())  # its own context, as a server gives it
        await asyncio.sleep(0)
        gc.collect()
        return statuses, ref() is not None

    def answered_but_held() -> bool:
        statuses, held = asyncio.run(serve(60, "/"))
        assert statuses == [200]
        return held

    original = TimeoutMiddleware.__call__
    try:
        assert answered_but_held()  # BentoML's own behaviour, pinned 1.4: held for 60 s
        released_timeouts()
        released_timeouts()  # idempotent
        assert not answered_but_held()
        assert asyncio.run(serve(0.05, "/slow"))[0] == [504]
    finally:
        TimeoutMiddleware.__call__ = original


def test_client_errors_are_logged_as_one_warning_line_without_the_values_sent():
    import logging
    import sys

    from bentoml.exceptions import InvalidArgument
    from pydantic import BaseModel

    from nbprod.compat.bentoml import ClientErrorFilter

    class Body(BaseModel):
        tenure: int

    def logged(exc: BaseException) -> logging.LogRecord:
        try:
            raise exc
        except BaseException:
            record = logging.LogRecord("bentoml", logging.ERROR, __file__, 1, "Exception on %s [%s]",
                                       ("/predict", "POST"), sys.exc_info())
        assert ClientErrorFilter().filter(record)  # never drops a record
        return record

    try:
        Body.model_validate({"tenure": "secret-value-7"})
    except ValidationError as exc:
        invalid = logged(exc)
    assert (invalid.levelname, invalid.exc_info) == ("WARNING", None)
    assert invalid.getMessage().startswith("400 on /predict: tenure: Input should be a valid")
    assert "secret-value-7" not in invalid.getMessage()

    refused = logged(InvalidArgument("monitoring is off"))
    assert refused.getMessage() == "400 on /predict: monitoring is off" and not refused.exc_info

    fault = logged(RuntimeError("disk on fire"))  # a server error keeps its traceback
    assert fault.levelname == "ERROR" and fault.exc_info and fault.getMessage().startswith(
        "Exception on /predict")


def test_bentoml_answers_a_4xx_as_an_array_and_the_middleware_makes_it_an_object():
    # the bug, on the pinned BentoML: `({"error": str(exc)},)` becomes a JSON array
    asgi = canary_app()
    with TestClient(asgi) as bare, TestClient(
            ServingMiddleware(asgi, version="m:1", paths=["/refuse"])) as client:
        assert bare.post("/refuse", json={}).json() == [{"error": "no such request id"}]
        response = client.post("/refuse", json={})
    assert response.status_code == 400
    assert response.json() == {"error": "no such request id"}
    assert int(response.headers["content-length"]) == len(response.content)
    assert response.headers[VERSION_HEADER] == "m:1"


def test_bentoml_parses_any_content_type_as_json_and_the_middleware_refuses_it():
    # the bug, on the pinned BentoML: a text/plain body is parsed as JSON and answered
    asgi = canary_app()
    body, plain = b'{"n": 2}', {"Content-Type": "text/plain"}
    with TestClient(asgi) as bare, TestClient(JsonApiMiddleware(asgi, paths=["/items"])) as client:
        assert bare.post("/items", content=body, headers=plain).json() == [{"i": 0}, {"i": 1}]
        refused = client.post("/items", content=body, headers=plain)
        accepted = client.post("/items", json={"n": 2})
    assert refused.status_code == 415 and "text/plain" in refused.json()["error"]
    assert accepted.json() == [{"i": 0}, {"i": 1}]


def test_a_list_output_rebuilds_its_json_schema_per_response_until_fixed(monkeypatch):
    spec = Canary.apis["items"].output_spec
    built: list[int] = []
    schema = spec.model_json_schema
    monkeypatch.setattr(spec, "model_json_schema", lambda *a, **k: built.append(1) or schema(*a, **k))
    monkeypatch.setattr(spec, "media_type", None)
    assert spec.mime_type() == spec.mime_type() == "application/json"
    assert len(built) == 2  # the bug, on the pinned BentoML: a JSON schema per response
    fixed_list_media_type(Canary, "items")
    built.clear()
    assert spec.mime_type() == "application/json" and built == []


def test_bentoml_refuses_a_build_context_in_a_hidden_folder(tmp_path, monkeypatch):
    from bentoml._internal.utils.filesystem import resolve_user_filepath

    hidden = tmp_path / ".cache" / "project"
    hidden.mkdir(parents=True)
    (hidden / "bentofile.yaml").write_text("name: x\n")
    monkeypatch.chdir(hidden)
    with pytest.raises(ValueError, match="Accessing hidden files is not allowed"):
        resolve_user_filepath("bentofile.yaml", None)  # the bug, on the pinned BentoML
    with visible_build_context(hidden, [hidden / "bentofile.yaml"]) as context:
        assert hidden_part(context) is None
        monkeypatch.chdir(context)
        assert resolve_user_filepath("bentofile.yaml", None).endswith("bentofile.yaml")
    assert not context.exists()


@pytest.mark.parametrize("ctype,refused", [
    ("application/json", None), ("application/json; charset=utf-8", None),
    ('Application/JSON; charset="UTF-8"', None), ("application/json;charset=utf8", None),
    ("application/json; charset=latin-1", "JSON must be UTF-8, got charset=latin-1"),
    ("text/plain", "Content-Type must be application/json, got text/plain"),
    ("", "Content-Type must be application/json, got none"),
])
def test_only_json_in_utf8_is_accepted(ctype, refused):
        assert content_type_problem(ctype.encode()) == refused


def test_request_metrics_label_every_invented_path_until_bounded(monkeypatch):
    import asyncio

    from bentoml._internal.server.http.instruments import RunnerTrafficMetricsMiddleware

    from nbprod.compat.bentoml import OTHER_PATH, bounded_endpoint_labels

    monkeypatch.setattr(RunnerTrafficMetricsMiddleware, "__call__",
                        RunnerTrafficMetricsMiddleware.__call__)  # undone after the test
    seen: list[str] = []

    async def app(scope, receive, send):
        seen.append(scope["path"])
        await send({"type": "http.response.start", "status": 404, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    middleware = RunnerTrafficMetricsMiddleware(app, namespace="canary", skip_paths=[])

    async def requests(prefix: str) -> set[str]:
        async def receive():
            return {"type": "http.request", "body": b""}

        async def send(message):
            return None

        for i in range(5):
            await middleware({"type": "http", "path": f"/{prefix}{i}", "method": "GET",
                              "headers": []}, receive, send)
        return {s.labels["endpoint"] for metric in middleware.metrics_request_total.collect()
                for s in metric.samples if s.labels.get("endpoint", "").startswith(
                    (f"/{prefix}", OTHER_PATH))}

    assert len(asyncio.run(requests("bug"))) == 5, "a series per invented path (the bug)"
    bounded_endpoint_labels(lambda path: path == "/predict")
    assert asyncio.run(requests("fixed")) == {OTHER_PATH}
    assert seen[-1] == "/fixed4", "the app below still sees the real path"
