"""Her notebook adopted and built as she does it, for the end-to-end tests: `nbprod new
--notebook` in a subprocess, then `ploomber build` (the smoke env) with a temporary BentoML
store, its registration copied where `nbprod bento` looks for it."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from projectkit import BIN, build_env


def adopt_and_build(folder: Path, name: str, *args: str) -> tuple[Path, dict[str, str], str]:
    """``nbprod new folder/name *args`` then its build; the project, its environment and what
    the command printed."""
    result = subprocess.run([str(BIN / "nbprod"), "new", str(folder / name), *args],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    path, home = folder / name, folder / "bentoml-home"
    env = {**build_env(home), "PYTHONPATH": str(path / "src")}
    build = subprocess.run([str(BIN / "ploomber"), "build"], cwd=path, env=env,
                           capture_output=True, text=True, timeout=900)
    assert build.returncode == 0, build.stdout[-4000:] + build.stderr[-4000:]
    (path / "products/model").mkdir(parents=True)
    shutil.copy2(path / "products-smoke/model/registration.json",
                 path / "products/model/registration.json")
    return path, env, result.stdout
