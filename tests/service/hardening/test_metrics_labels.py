"""/metrics stays bounded whatever paths clients invent: a real `bentoml serve`, thousands
of random paths, one `endpoint` series for all of them (it was one per path: 2,000 paths made
40,028 series and an 8.7 MB page)."""

from __future__ import annotations

import re
import secrets

from projectkit import bentoml_serve, wait_until

PATHS = 2000


def endpoints(page: str) -> set[str]:
    return set(re.findall(r'^bentoml_service_request_total\{[^}]*endpoint="([^"]*)"', page, re.M))


def test_thousands_of_invented_paths_make_one_series(project):
    with bentoml_serve("nbprod.serving.service:ModelService", project.path, project.env()) as client:
        before = client.get("/metrics").text
        statuses = {client.get(f"/{secrets.token_hex(8)}/{i}").status_code for i in range(PATHS)}
        assert statuses == {404}, statuses

        def counted() -> str | None:
            page = client.get("/metrics").text  # rendered at most once a second
            found = re.search(r'^bentoml_service_request_total\{[^}]*endpoint="/other"[^}]*\} '
                              r'(\S+)$', page, re.M)
            return page if found and float(found.group(1)) >= PATHS else None

        page = wait_until(counted, 15, "the invented paths were not counted under /other")
    served = {"/predict", "/predict_batch", "/metadata", "/feedback", "/livez", "/readyz",
              "/healthz", "/docs.json", "/", "/other"}
    assert endpoints(page) <= served, sorted(endpoints(page) - served)[:5]
    assert len(page) < 4 * len(before) + 20_000, (len(before), len(page))
