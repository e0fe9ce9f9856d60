"""The API page, at ``/`` and ``/docs``: Swagger UI on the service's OpenAPI document, from
the Swagger UI files BentoML bundles, with nothing loaded from outside the machine.

BentoML's own page (``/``) loads Google Tag Manager from googletagmanager.com into the API's
origin, whatever ``BENTOML_DO_NOT_TRACK`` says, links out to GitHub, and is not where the
docs send people (``/docs``). This page replaces it on both paths; a Content-Security-Policy
keeps the browser from loading anything but the server's own files.
"""

from __future__ import annotations

import html
from typing import Any

#: Where the page is served.
PATHS = frozenset({"/", "/docs"})
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


class ApiPageMiddleware:
    """ASGI: ``GET``/``HEAD`` of :data:`PATHS` answered with :func:`page`, the rest passed on."""

    def __init__(self, app: Any, title: str) -> None:
        self.app = app
        self.body = page(title)

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
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
