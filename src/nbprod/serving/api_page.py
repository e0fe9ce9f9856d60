"""The API page, at ``/`` and ``/docs``: Swagger UI on the service's OpenAPI document, from
the Swagger UI files BentoML bundles, with nothing loaded from outside the machine.

BentoML's own page (``/``) loads Google Tag Manager from googletagmanager.com into the API's
origin, whatever ``BENTOML_DO_NOT_TRACK`` says, links out to GitHub, and is not where the
docs send people (``/docs``). This page replaces it on both paths; a Content-Security-Policy
keeps the browser from loading anything but the server's own files.

The OpenAPI document the page shows (``/docs.json``) says what is served: BentoML writes the
bento's version as the API's and "BentoML Team" as its contact; its ``info`` is rewritten
with the service's name as title and the model version (:func:`spec_info`).
"""

from __future__ import annotations

import html
import json
from typing import Any

#: Where the page is served.
PATHS = frozenset({"/", "/docs"})
#: The OpenAPI document the page reads.
SPEC = "/docs.json"
#: Only the server's own scripts, styles and images: nothing from another origin.
POLICY = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
          "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'")

_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="UTF-8">
  <title>{title}</title>
  <link rel="stylesheet" type="text/css" href="/static_content/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/static_content/swagger-ui-bundle.js" charset="UTF-8"></script>
  <script src="/static_content/swagger-ui-standalone-preset.js" charset="UTF-8"></script>
  <script src="/static_content/swagger-initializer.js" charset="UTF-8"></script>
</body>
</html>
"""


def page(title: str) -> bytes:
    """The page's HTML; ``title`` (the service and the model version) HTML-escaped."""
    return _PAGE.format(title=html.escape(title)).encode()


def spec_info(spec: dict[str, Any], name: str, model: str) -> dict[str, Any]:
    """``spec`` (an OpenAPI document) with its ``info`` naming the service ``name`` and the
    ``model`` version it serves, without BentoML's contact. The description is the bento's
    (``description`` in bentofile.yaml); BentoML's default one, used when the service runs
    from its module, links badges and pages outside the machine and is replaced."""
    info = {k: v for k, v in dict(spec.get("info") or {}).items() if k != "contact"}
    info.update(title=name, version=model)
    if "://" in str(info.get("description", "")) or not info.get("description"):
        info["description"] = f"The {name} service: model {model}, served by nbprod."
    return {**spec, "info": info}


class ApiPageMiddleware:
    """ASGI: ``GET``/``HEAD`` of :data:`PATHS` answered with :func:`page`, the OpenAPI
    document's ``info`` rewritten (:func:`spec_info`), the rest passed on."""

    def __init__(self, app: Any, title: str, name: str = "", model: str = "") -> None:
        self.app = app
        self.body = page(title)
        self.name, self.model = name, model

    async def _spec(self, scope: dict, receive: Any, send: Any) -> None:
        start: dict[str, Any] = {}
        chunks: list[bytes] = []

        async def keep(message: dict) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self.app(scope, receive, keep)
        body = b"".join(chunks)
        if start.get("status") == 200:
            try:
                body = json.dumps(spec_info(json.loads(body), self.name, self.model)).encode()
            except ValueError:
                pass  # not JSON: passed on as it came
        headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
        await send({**start, "headers": [*headers, (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if (scope["type"] == "http" and scope.get("path") == SPEC and self.model
                and scope.get("method") == "GET"):
            await self._spec(scope, receive, send)
            return
        if (scope["type"] != "http" or scope.get("path") not in PATHS
                or scope.get("method") not in ("GET", "HEAD")):
            await self.app(scope, receive, send)
            return
        headers = [(b"content-type", b"text/html; charset=utf-8"),
                   (b"content-length", str(len(self.body)).encode()),
                   (b"content-security-policy", POLICY.encode()),
                   (b"x-content-type-options", b"nosniff")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body",
                    "body": self.body if scope.get("method") == "GET" else b""})
