"""The engines tier: the exported pipeline run by real engines (Airflow 3, kfp, hera's Argo
models) and batch scoring on a real Dask cluster. `make test-engines` builds the engines'
own environments (build/engines/<engine>/, pinned by engines/<engine>.lock.txt) and runs it.

It reuses the scale tier's model fixtures (a model trained on the shipped data)."""

from __future__ import annotations

import sys
from pathlib import Path

from scale.conftest import real, registered, trained

sys.path.append(str(Path(__file__).resolve().parent))

__all__ = ["real", "registered", "trained"]  # the scale tier's fixtures, used here
