"""Bad inputs of the service, shared by its tiers: each a name, the route, the body (JSON, or
raw bytes), the text the 4xx answer must contain and, when it is not JSON, the content type.

To add a case, add a line to :func:`bad_cases`; the in-process tier
(``tests/service/inprocess/test_api.py``) sends every case, the served tier a few."""

from __future__ import annotations

import json

MAX_BATCH_SIZE = 256  # nbprod.serving.service.MAX_BATCH_SIZE's default


def bad_cases(good: dict) -> dict[str, tuple]:
    """name -> (path, body: bytes or JSON, text the error must contain[, content type])."""
    def with_(**changes):
        return {"customer": {**good, **changes}}

    def raw(key: str, literal: str) -> bytes:  # JSON that json.dumps will not write
        text = json.dumps(with_(**{key: 0.0}))
        return text.replace(f'"{key}": 0.0', f'"{key}": {literal}').encode()

    missing = {k: v for k, v in good.items() if k != "tenure"}
    too_many = [good] * (MAX_BATCH_SIZE + 1)
    return {
        "missing field": ("/predict", {"customer": missing}, "tenure"),
        "extra field": ("/predict", with_(shoe_size=42), "shoe_size"),
        "wrong type": ("/predict", with_(tenure="twelve"), "tenure"),
        "number as string": ("/predict", with_(monthly_charges="20.5"), "monthly_charges"),
        "boolean flag": ("/predict", with_(partner=True), "partner"),
        "flag not 0/1": ("/predict", with_(partner=2), "partner"),
        "unknown category": ("/predict", with_(contract="Lifetime"), "contract"),
        "null": ("/predict", with_(internet_service=None), "internet_service"),
        "NaN": ("/predict", raw("monthly_charges", "NaN"), "monthly_charges"),
        "Infinity": ("/predict", raw("total_charges", "Infinity"), "total_charges"),
        "negative": ("/predict", with_(monthly_charges=-1.0), "monthly_charges"),
        "out of range": ("/predict", with_(tenure=1000), "tenure"),
        "customer not an object": ("/predict", {"customer": [1, 2]}, "customer"),
        "bad row in a batch": ("/predict_batch", {"customers": [good, {**good, "tenure": -1}]},
                               "tenure"),
        "empty batch": ("/predict_batch", {"customers": []}, "customers"),
        "batch over the limit": ("/predict_batch", {"customers": too_many}, "customers"),
        "malformed JSON": ("/predict", b'{"customer": {"tenure": 1,', "JSON"),
        "empty body": ("/predict", b"", "customer"),
        "wrong content type": ("/predict", json.dumps({"customer": good}).encode(),
                               "Content-Type", "text/plain"),
        "form content type": ("/predict_batch", b"customers=1", "Content-Type",
                              "application/x-www-form-urlencoded"),
        "deep nesting": ("/predict", b'{"customer": ' + b"[" * 2000 + b"]" * 2000 + b"}",
                         "JSON"),
        "a list, not an object": ("/predict", [{"customer": good}], "Input should be an object"),
        "a string, not an object": ("/predict", "customer", "Input should be an object"),
        "wrong key": ("/predict", {"customers": good}, "customer"),
        "record under the batch key": ("/predict_batch", {"customers": good}, "customers"),
        "batch not a list": ("/predict_batch", {"customers": "all"}, "customers"),
        "JSON in latin-1": ("/predict", json.dumps({"customer": good}).encode("latin-1"),
                            "UTF-8", "application/json; charset=latin-1"),
    }
