"""``/predict`` answered in front of BentoML's router (``nbprod.serving.direct_route``) gives
what BentoML's own route gives: the same answers, headers and errors, side by side with a real
`bentoml serve` whose route is turned off (``NBPROD_DIRECT_ROUTE=0``)."""

from __future__ import annotations

import json

import pytest

from projectkit import bentoml_serve, wait_until

from .inputs import bad_cases

#: Headers that differ from one answer to the next whoever writes it.
VARYING = {"date", "server-timing"}


@pytest.fixture(scope="module")
def routed(project):
    """The service with /predict through BentoML's router, as before the direct route."""
    env = project.env(NBPROD_DIRECT_ROUTE="0")
    with bentoml_serve("nbprod.serving.service:ModelService", project.path, env) as client:
        yield client


def _headers(response) -> dict[str, str]:
    return {k: v for k, v in response.headers.items() if k not in VARYING}


def test_the_answers_and_their_headers_are_bentomls(server, routed, project):
    rows, _ = project.test_rows()
    for row in rows[:20]:
        direct = server.post("/predict", json={"customer": row})
        before = routed.post("/predict", json={"customer": row})
        assert direct.status_code == before.status_code == 200, direct.text
        a, b = direct.json(), before.json()
        assert a.pop("request_id") != b.pop("request_id")  # each server's own
        assert a == b
        assert _headers(direct) == _headers(before)
        assert "x-bentoml-request-id" not in direct.headers


def test_every_mistake_gets_bentomls_400_with_its_detail(server, routed, customer):
    failures = []
    for name, (path, body, _, *ctype) in bad_cases(customer).items():
        if path != "/predict":
            continue
        content = body if isinstance(body, bytes) else json.dumps(body).encode()
        headers = {"Content-Type": ctype[0] if ctype else "application/json"}
        direct = server.post(path, content=content, headers=headers)
        before = routed.post(path, content=content, headers=headers)
        if (direct.status_code, direct.content) != (before.status_code, before.content):
            failures.append(f"{name}: {direct.status_code} {direct.text[:200]} against "
                            f"{before.status_code} {before.text[:200]}")
        elif not 400 <= direct.status_code < 500:
            failures.append(f"{name}: {direct.status_code}")
    assert not failures, "\n".join(failures)


def test_bentomls_request_metrics_still_count_the_route(server, customer):
    def count() -> float:
        lines = [line for line in server.get("/metrics").text.splitlines()
                 if line.startswith("bentoml_service_request_total{")
                 and 'endpoint="/predict"' in line and 'http_response_code="200"' in line]
        return sum(float(line.rsplit(" ", 1)[1]) for line in lines)

    first = count()
    for _ in range(3):
        assert server.post("/predict", json={"customer": customer}).status_code == 200
    # the page is rendered at most once a second
    wait_until(lambda: count() == first + 3 or None, 15, "the answers were not counted")
