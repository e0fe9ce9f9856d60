"""The direct route's middleware in front of a Starlette app: a valid POST to its path is
answered by the route without reaching the app; everything else reaches the app with the body
it sent, byte for byte."""

from __future__ import annotations

import warnings

import pydantic
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from nbprod.serving.direct_route import (
    DirectRoute,
    DirectRouteMiddleware,
    direct_route_enabled,
    json_body,
)

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", "Using `httpx` with `starlette.testclient`")
    from starlette.testclient import TestClient


class Body(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid")
    x: int


class Answer(pydantic.BaseModel):
    double: int


async def behind(request: Request) -> JSONResponse:
    """What the app behind the route answers: who answered, and the body it got."""
    return JSONResponse({"by": "app", "body": (await request.body()).decode()})


def _client(answer=None) -> tuple[TestClient, DirectRoute]:
    route = DirectRoute("/predict", Body.model_validate_json, server="BentoML Service/demo")
    route.answer = answer
    app = Starlette(routes=[Route("/predict", behind, methods=["POST"]),
                            Route("/other", behind, methods=["POST"])])
    return TestClient(DirectRouteMiddleware(app, route)), route


async def _double(body: Body) -> Answer:
    if body.x < 0:
        raise ValueError("negative")
    return Answer(double=2 * body.x)


def test_a_valid_body_is_answered_by_the_route_as_bentoml_writes_it():
    client, _ = _client(_double)
    resp = client.post("/predict", content=b'{"x": 21}')
    assert resp.status_code == 200 and resp.content == b'{"double":42}'
    assert resp.headers["content-type"] == "application/json"
    assert resp.headers["server"] == "BentoML Service/demo"
    assert resp.headers["content-length"] == "13"
    sent = client.post("/predict", content=b'{"x": 3}', headers={"content-type":
                                                                  "application/json; charset=utf-8"})
    assert sent.json() == {"double": 6}


@pytest.mark.parametrize(("content", "headers", "why"), [
    (b'{"x": "three"}', {}, "the input model refuses it"),
    (b'{"x": 1, "y": 2}', {}, "an extra field"),
    (b'{"x": -1}', {}, "the call raises"),
    (b'{"x":', {}, "not JSON"),
    (b'{"x": 1}', {"content-type": "text/plain"}, "another media type"),
])
def test_what_the_route_does_not_answer_reaches_the_app_with_its_body(content, headers, why):
    client, _ = _client(_double)
    resp = client.post("/predict", content=content, headers=headers)
    assert resp.json() == {"by": "app", "body": content.decode()}, why


def test_other_paths_methods_and_a_route_without_its_answer_reach_the_app():
    client, route = _client(_double)
    assert client.post("/other", content=b'{"x": 1}').json()["by"] == "app"
    assert client.get("/predict").status_code == 405  # the app's answer to a GET
    route.answer = None  # before the service's instance exists
    assert client.post("/predict", content=b'{"x": 1}').json()["by"] == "app"


def test_a_body_in_several_messages_is_read_whole():
    client, _ = _client(_double)

    def parts():
        yield b'{"x"'
        yield b": 5}"

    assert client.post("/predict", content=parts()).json() == {"double": 10}


def test_the_switch_and_the_media_types():
    assert direct_route_enabled({}) and direct_route_enabled({"NBPROD_DIRECT_ROUTE": "1"})
    assert not direct_route_enabled({"NBPROD_DIRECT_ROUTE": "0"})
    assert json_body(b"") and json_body(b"Application/JSON; charset=utf-8")
    assert not json_body(b"text/plain") and not json_body(b"application/jsonl")
