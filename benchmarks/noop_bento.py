"""A peer of benchmarks/serve.py: the floor of the HTTP stack the service runs on.

One ``@bentoml.service`` with one ``@bentoml.api`` that takes the service's request
(``{"customer": {...}}`` to ``/predict``) and answers a constant without touching a model:
what ``bentoml serve`` costs per request (HTTP parsing, routing, JSON in and out, BentoML's
defaults), with no model, no validation and no monitoring. A service whose model costs
microseconds cannot answer faster than this.
"""

from __future__ import annotations

import bentoml

ANSWER = {"probability": 0.5, "label": "No", "threshold": 0.5, "model_version": "noop"}


@bentoml.service
class NoopService:
    @bentoml.api
    def predict(self, customer: dict) -> dict:
        return ANSWER
