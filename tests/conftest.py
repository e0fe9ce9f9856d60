"""Fixtures shared by every test tier (helpers live in projectkit.py)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from projectkit import SESSION_STORE


@pytest.fixture
def bentoml_home() -> Path:
    """This test process's temporary BentoML store (shared by the session: use unique names)."""
    return SESSION_STORE


@pytest.fixture
def model_name(request) -> str:
    """A model name no other test uses, so tests sharing the store stay independent."""
    return re.sub(r"[^a-z0-9_]", "_", request.node.name.lower())[:60].strip("_")
