"""The API page loads nothing from outside the machine (BentoML's own loaded Google Tag
Manager into the API's origin), at / and at /docs, where the docs send people."""

from __future__ import annotations

import json
import re
from pathlib import Path

from nbprod.serving.api_page import spec_info
from projectkit import bentoml_serve


def test_bentomls_own_page_loads_google_tag_manager():
    """Why nbprod serves its own page: the bug, on the pinned BentoML."""
    import _bentoml_impl.server

    bentoml_page = (Path(_bentoml_impl.server.__file__).parent / "main-openapi.html").read_text()
    assert "googletagmanager.com" in bentoml_page


def test_the_api_page_is_served_offline_at_both_paths(project, tmp_path):
    from browser import visit

    with bentoml_serve("nbprod.serving.service:ModelService", project.path, project.env()) as client:
        pages = [client.get(path) for path in ("/", "/docs")]
        assets = re.findall(r'(?:src|href)="([^"]+)"', pages[0].text)
        loaded = {a: client.get(a).status_code for a in assets}
        spec = client.get("/docs.json")
        # as a person sees it: Swagger UI drawn from the rewritten document, all from here
        seen = visit(f"{client.base_url}/docs", {
            "title": "document.querySelector('.info .title') && "
                     "document.querySelector('.info .title').innerText",
            "contact": "!!document.querySelector('.info__contact')"}, height=900, settle=3)
    (tmp_path / "docs.png").write_bytes(seen.screenshot)
    outside = [u for u in seen.requests
               if not u.startswith((str(client.base_url), "data:", "about:"))]
    assert seen.requests and outside == []
    assert seen.values["title"].startswith("churn") and project.tag.split(":")[1] in seen.values["title"]
    assert seen.values["contact"] is False
    for answer in pages:
        assert answer.status_code == 200 and "swagger-ui" in answer.text
        assert "default-src 'self'" in answer.headers["content-security-policy"]
        assert "googletagmanager" not in answer.text and "://" not in answer.text
        assert project.tag in answer.text, "the page names the model version it serves"
    assert assets and all(a.startswith("/static_content/") for a in assets)
    assert set(loaded.values()) == {200}, loaded
    assert spec.status_code == 200 and "/predict" in spec.json()["paths"]
    # what is served, not the bento's version or "BentoML Team"; no link leaves the machine
    info = spec.json()["info"]
    assert info["version"] == project.tag and "contact" not in info
    assert "://" not in json.dumps(info), info
    assert int(spec.headers["content-length"]) == len(spec.content)


def test_the_document_names_the_service_and_the_model_and_keeps_a_bento_s_description():
    spec = {"info": {"title": "churn", "version": "abc", "description": "Telco churn: ...",
                     "contact": {"name": "BentoML Team"}}, "paths": {}}
    info = spec_info(spec, "churn", "telco_churn:v1")["info"]
    assert info == {"title": "churn", "version": "telco_churn:v1",
                    "description": "Telco churn: ..."}
    default = {"info": {"description": "# churn:dev\n[![x](https://img.shields.io/b)](https://x)"}}
    assert spec_info(default, "churn", "m:v")["info"]["description"] == (
        "The churn service: model m:v, served by nbprod.")
