"""Shared fixtures: a copy of the project in a temporary folder, a temporary
BentoML store, and the real `ploomber build` run on them."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
PROJECT_FILES = ["pipeline.yaml", "env.yaml", "env.smoke.yaml", "notebooks", "data/raw"]

os.environ["BENTOML_DO_NOT_TRACK"] = "true"
os.environ["PLOOMBER_STATS_ENABLED"] = "false"


def copy_project(dest: Path) -> Path:
    """The pipeline's files (not its products) copied to ``dest``."""
    for name in PROJECT_FILES:
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, dest / name, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
        else:
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / name)
    return dest


def build_env(bentoml_home: Path, env_file: str = "env.smoke.yaml") -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        BENTOML_HOME=str(bentoml_home),
        PLOOMBER_ENV_FILENAME=env_file,
        PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}",
    )
    return env


def ploomber_build(project: Path, bentoml_home: Path, *args: str) -> subprocess.CompletedProcess:
    """Run the real `ploomber build` in ``project`` with the smoke parameters."""
    return subprocess.run(
        [str(BIN / "ploomber"), "build", *args],
        cwd=project,
        env=build_env(bentoml_home),
        capture_output=True,
        text=True,
        timeout=600,
    )


def tasks_that_ran(output: str) -> set[str]:
    """Task names whose 'Ran?' column is True in ploomber build's summary table."""
    return set(re.findall(r"^(\w+)\s+True\s+[\d.]+", output, re.M))


def forget_bentoml_store() -> None:
    """BentoML memoizes its home folder and stores the first time a process uses them;
    forget them, so that the next use follows $BENTOML_HOME (tests switch stores)."""
    from bentoml._internal.configuration.containers import BentoMLContainer
    from simple_di import sentinel
    from simple_di.providers import SingletonFactory

    for name in ("bentoml_home", "model_store_dir", "model_store", "bento_store_dir",
                 "bento_store", "tmp_bento_store_dir", "env_store_dir"):
        provider = getattr(BentoMLContainer, name, None)
        if isinstance(provider, SingletonFactory):
            provider._cache = sentinel


@pytest.fixture
def bentoml_home(tmp_path, monkeypatch):
    home = tmp_path / "bentoml"
    monkeypatch.setenv("BENTOML_HOME", str(home))
    forget_bentoml_store()
    yield home
    forget_bentoml_store()
