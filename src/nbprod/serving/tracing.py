"""Which requests get an OpenTelemetry span in the service.

BentoML 1.4 makes a span for every request and, unless a tracing exporter is configured,
drops it: under load that was the largest cost of BentoML's request path on ``/predict``
(BENCHMARKS.md, "What bentoml serve adds"). So the prediction routes are excluded from
tracing (BentoML's ``tracing.excluded_urls``) unless BentoML's configuration names an
exporter, in which case every request keeps its span as before. The other routes keep
theirs either way.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path


def tracing_exported(environ: Mapping[str, str]) -> bool:
    """Whether BentoML's configuration names a tracing exporter: ``exporter_type`` in
    ``$BENTOML_CONFIG_OPTIONS`` or ``$BENTOML_CONFIG_OVERRIDES``, or in the ``$BENTOML_CONFIG``
    file."""
    inline = environ.get("BENTOML_CONFIG_OPTIONS", "") + environ.get("BENTOML_CONFIG_OVERRIDES", "")
    config = Path(environ.get("BENTOML_CONFIG") or "\0")
    return "exporter_type" in inline or (
        config.is_file() and "exporter_type" in config.read_text(errors="replace"))


def excluded_from_tracing(routes: Sequence[str], environ: Mapping[str, str]) -> list[str]:
    """The routes no span is made for: ``routes``, or none when spans are exported."""
    return [] if tracing_exported(environ) else list(routes)
