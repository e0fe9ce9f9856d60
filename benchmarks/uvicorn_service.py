"""The service's own code on a bare uvicorn app, without BentoML's request path.

What ``bentoml serve`` adds is measured against this app by ``benchmarks/serve.py --peers
uvicorn``: the same :class:`nbprod.serving.service.ModelService` instance (the same
``Predictor`` on the same compiled model, its batcher, its monitor and prediction log) and
the same ASGI middlewares in the same order (the guards, the version header and JSON
contract, the API page), but ``/predict`` routed by Starlette, its body validated by the same
pydantic record type in one ``model_validate_json`` call, and the answer written with
pydantic's ``model_dump_json``. BentoML's own layers are absent: its routing and IO
descriptors, its context, tracing and metrics, and its process supervisor. Run by the
benchmark as ``uvicorn benchmarks.uvicorn_service:app`` with ``NBPROD_MODEL_TAG`` set.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pydantic
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from nbprod.serving import service
from nbprod.serving.api_page import ApiPageMiddleware
from nbprod.serving.guard import GuardMiddleware
from nbprod.serving.predictor import ServingMiddleware

INSTANCE = service.ModelService.inner()  # type: ignore[attr-defined]
Body = pydantic.create_model("Body", **{service.ONE: (service.Record, ...)})  # type: ignore[call-overload]
JSON = "application/json"


async def predict(request: Request) -> Response:
    try:
        body = Body.model_validate_json(await request.body())
    except pydantic.ValidationError as exc:
        detail = exc.json(include_url=False, include_context=False, include_input=False)
        return Response(f'{{"detail": {detail}}}', status_code=400, media_type=JSON)
    answer = await INSTANCE._batcher(getattr(body, service.ONE))
    return Response(answer.model_dump_json(), media_type=JSON)


@contextlib.asynccontextmanager
async def _lifespan(_: Any) -> AsyncIterator[None]:
    yield
    INSTANCE._close_monitor()  # the batcher and the prediction log, as on BentoML's shutdown


def _app() -> Any:
    """The route inside the service's middlewares, the first listed outermost (as there)."""
    app: Any = Starlette(routes=[Route("/predict", predict, methods=["POST"])],
                         lifespan=_lifespan)
    app = ApiPageMiddleware(app, title=f"{service.NAME}: model {service.MODEL_TAG}",
                            name=service.NAME, model=service.MODEL_TAG)
    app = ServingMiddleware(app, version=service.MODEL_TAG, paths=service.API_ROUTES)
    return GuardMiddleware(app, settings=service.GUARD)


app = _app()
