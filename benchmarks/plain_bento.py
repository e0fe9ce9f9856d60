"""A peer of benchmarks/serve.py: the model served the way BentoML's scikit-learn example does.

One ``@bentoml.service`` class that loads the model in ``__init__`` and one ``@bentoml.api``
method that builds a DataFrame from the posted record and calls the model: BentoML's
defaults everywhere (workers, threads, access log, tracing), no input schema, no guards, no
monitoring, no batching. Request: ``{"customer": {...}}`` to ``/predict``. Run by the
benchmark as ``bentoml serve benchmarks.plain_bento:PlainService`` with
``NBPROD_MODEL_TAG`` set (the model is the one nbprod stored, loaded with its own loader).
"""

from __future__ import annotations

import os

import bentoml
import pandas as pd

from nbprod.registry.store import load_model

TAG = os.environ["NBPROD_MODEL_TAG"]


@bentoml.service
class PlainService:
    bento_model = bentoml.models.BentoModel(TAG)

    def __init__(self) -> None:
        self.model = load_model(str(self.bento_model.tag))

    @bentoml.api
    def predict(self, customer: dict) -> dict:
        frame = pd.DataFrame([customer])
        probability = float(self.model.predict_proba(frame)[0, 1])
        return {"probability": probability, "model_version": TAG}
