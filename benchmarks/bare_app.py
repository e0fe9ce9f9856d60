"""The baseline of benchmarks/serve.py: a bare Starlette app calling the model once per request.

It parses the same JSON as the service's ``/predict`` (``{"customer": {...}}``), builds a
one-row DataFrame in the model's column order and calls ``predict_proba``: no validation,
no batching, no metrics. Run by the benchmark as
``uvicorn benchmarks.bare_app:app`` with ``NBPROD_MODEL_TAG`` set.
"""

from __future__ import annotations

import os

import pandas as pd
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from nbprod.registry.store import feature_schema, load_model

TAG = os.environ["NBPROD_MODEL_TAG"]
MODEL = load_model(TAG)
COLUMNS = feature_schema(TAG).names


async def predict(request: Request) -> JSONResponse:
    customer = (await request.json())["customer"]
    frame = pd.DataFrame([customer], columns=COLUMNS)
    probability = float(MODEL.predict_proba(frame)[0, 1])
    return JSONResponse({"probability": probability, "model_version": TAG})


app = Starlette(routes=[Route("/predict", predict, methods=["POST"])])
