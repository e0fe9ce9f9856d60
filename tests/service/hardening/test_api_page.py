"""The API page loads nothing from outside the machine (BentoML's own loaded Google Tag
Manager into the API's origin), at / and at /docs, where the docs send people."""

from __future__ import annotations

import re
from pathlib import Path

from projectkit import bentoml_serve


def test_bentomls_own_page_loads_google_tag_manager():
    """Why nbprod serves its own page: the bug, on the pinned BentoML."""
    import _bentoml_impl.server

    bentoml_page = (Path(_bentoml_impl.server.__file__).parent / "main-openapi.html").read_text()
    assert "googletagmanager.com" in bentoml_page


def test_the_api_page_is_served_offline_at_both_paths(project):
    with bentoml_serve("nbprod.serving.service:ModelService", project.path, project.env()) as client:
        pages = [client.get(path) for path in ("/", "/docs")]
        assets = re.findall(r'(?:src|href)="([^"]+)"', pages[0].text)
        loaded = {a: client.get(a).status_code for a in assets}
        spec = client.get("/docs.json")
    for answer in pages:
        assert answer.status_code == 200 and "swagger-ui" in answer.text
        assert "default-src 'self'" in answer.headers["content-security-policy"]
        assert "googletagmanager" not in answer.text and "://" not in answer.text
        assert project.tag in answer.text, "the page names the model version it serves"
    assert assets and all(a.startswith("/static_content/") for a in assets)
    assert set(loaded.values()) == {200}, loaded
    assert spec.status_code == 200 and "/predict" in spec.json()["paths"]
