"""The bento that serves a given model version: selected if it exists, built if not.

A bento is pinned to one model version (``bentoml build --arg model_tag=name:version``
freezes the tag into it). Promotion and rollback change which model is in production;
``nbprod bento`` then finds the bento holding that version, or builds it, so that
``make serve`` always serves production.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

from .errors import ModelStoreError

log = logging.getLogger(__name__)


def find_bento(model_tag: str, service: str = "churn"):
    """The newest bento of ``service`` that holds exactly ``model_tag``, or None."""
    import bentoml

    try:
        bentos = bentoml.bentos.list(service)
    except bentoml.exceptions.NotFound:
        return None
    holding = [b for b in bentos if model_tag in {str(m.tag) for m in b.info.all_models}]
    return max(holding, key=lambda b: b.info.creation_time) if holding else None


def build_bento(model_tag: str, project: str | Path = ".") -> str:
    """Run ``bentoml build --arg model_tag=...`` in ``project``; return the bento tag."""
    bentoml_cli = Path(sys.executable).parent / "bentoml"
    result = subprocess.run(
        [str(bentoml_cli), "build", "--output", "tag", "--arg", f"model_tag={model_tag}"],
        cwd=project, capture_output=True, text=True, timeout=900,
        env={**os.environ, "BENTOML_DO_NOT_TRACK": "true"},
    )
    tags = [line.split("__tag__:", 1)[1].strip() for line in result.stdout.splitlines()
            if line.startswith("__tag__:")]
    if result.returncode != 0 or not tags:
        tail = (result.stderr or result.stdout).strip().splitlines()[-5:]
        raise ModelStoreError(f"bentoml build for {model_tag} failed: " + " | ".join(tail))
    log.info("built bento %s for %s", tags[0], model_tag)
    return tags[0]


def bento_for(model_tag: str, project: str | Path = ".", service: str = "churn") -> tuple[str, bool]:
    """The bento tag serving ``model_tag`` and whether it was built just now."""
    found = find_bento(model_tag, service)
    if found is not None:
        return str(found.tag), False
    return build_bento(model_tag, project), True
