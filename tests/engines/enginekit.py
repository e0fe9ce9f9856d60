"""Helpers of the engines tier: where the engines' own environments are, and the pipeline's
dependencies as Ploomber reads them (what every engine's spec must reproduce)."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest

from projectkit import ROOT

ENGINES = ROOT / "build" / "engines"


def engine_bin(engine: str, program: str) -> Path:
    """``program`` of ``engine``'s environment; fails (not skips) when it was not built."""
    path = ENGINES / engine / "bin" / program
    if not (ENGINES / engine / ".installed").exists() or not path.exists():
        pytest.fail(f"{ENGINES / engine} is not installed: run `make test-engines` "
                    f"(it builds it from engines/{engine}.lock.txt)")
    return path


def upstream_of_pipeline(project: Path) -> dict[str, set[str]]:
    """Task -> its upstream tasks, as Ploomber reads the project's pipeline.yaml."""
    from ploomber.spec import DAGSpec

    with contextlib.chdir(project):
        dag = DAGSpec("pipeline.yaml", env="env.smoke.yaml").to_dag()
        return {name: set(dag[name].upstream) for name in dag}
