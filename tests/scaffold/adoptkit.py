"""Her notebook adopted and built as she does it, for the end-to-end tests: `nbprod new
--notebook` in a subprocess, then `ploomber build` (the smoke env) with a temporary BentoML
store, its registration copied where `nbprod bento` looks for it."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

from projectkit import BIN, bentoml_serve, build_env


def adopt_and_build(folder: Path, name: str, *args: str) -> tuple[Path, dict[str, str], str]:
    """``nbprod new folder/name *args`` then its build; the project, its environment and what
    the command printed."""
    result = subprocess.run([str(BIN / "nbprod"), "new", str(folder / name), *args],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    path, home = folder / name, folder / "bentoml-home"
    env = {**build_env(home), "PYTHONPATH": str(path / "src")}
    build_adopted(path, env)
    return path, env, result.stdout


def build_adopted(path: Path, env: dict[str, str]) -> None:
    """`ploomber build` of a project `nbprod new --notebook` wrote (the smoke env, her package
    on PYTHONPATH), its registration put where `nbprod bento` reads it."""
    build = subprocess.run([str(BIN / "ploomber"), "build"], cwd=path, env=env,
                           capture_output=True, text=True, timeout=900)
    assert build.returncode == 0, build.stdout[-4000:] + build.stderr[-4000:]
    (path / "products/model").mkdir(parents=True)
    shutil.copy2(path / "products-smoke/model/registration.json",
                 path / "products/model/registration.json")


def served_as_hers(path: Path, env: dict[str, str], csv: Path,
                   expected: dict[int, float]) -> None:
    """`nbprod bento`, a real `bentoml serve`, and each of her raw rows (by index, as the
    columns.yaml of the project declares a record: numbers as numbers, a blank as null)
    POSTed: its probability is her model's, within 1e-6 relative."""
    import math

    import pandas as pd
    import pytest
    import yaml

    spec = yaml.safe_load((path / "columns.yaml").read_text())
    fields = {name: c.get("source", name) for name, c in spec["columns"].items()
              if name != spec["target"]}
    raw = pd.read_csv(csv)
    for name, header in fields.items():  # a JSON record carries numbers as numbers
        if spec["columns"][name]["kind"] in ("number", "integer"):
            raw[header] = pd.to_numeric(raw[header], errors="coerce")
    result = subprocess.run([str(BIN / "nbprod"), "bento"], cwd=path, env=env,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    bento = result.stdout.strip().splitlines()[-1]
    with bentoml_serve(bento, path, env, timeout=180) as client:
        for index, proba in expected.items():
            row = raw.loc[index]
            record = {name: (row[h].item() if hasattr(row[h], "item") else row[h])
                      for name, h in fields.items()}
            record = {k: None if isinstance(v, float) and math.isnan(v) else v
                      for k, v in record.items()}
            resp = client.post("/predict", json={"record": record})
            assert resp.status_code == 200, resp.text
            assert resp.json()["probability"] == pytest.approx(proba, rel=1e-6, abs=1e-12), index


def adopted_build(path: Path, *new_args: str) -> tuple[dict[str, str], str]:
    """:func:`adopt_and_build` of ``path``: the build's environment and what `nbprod new`
    printed."""
    _, env, out = adopt_and_build(path.parent, path.name, *new_args)
    return env, out


def record_fields(project: Path) -> tuple[dict, dict[str, str]]:
    """A written project's ``columns.yaml`` and its record's fields (API name -> raw header)."""
    import yaml

    spec = yaml.safe_load((project / "columns.yaml").read_text())
    return spec, {name: c.get("source", name) for name, c in spec["columns"].items()
                  if name != spec["target"]}


def nbprod_bento(project: Path, env: dict[str, str]) -> str:
    """`nbprod bento` in ``project``: the tag of the bento it built."""
    result = subprocess.run([str(BIN / "nbprod"), "bento"], cwd=project, env=env,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout.strip().splitlines()[-1]


def her_executed_answers(notebook: Path, dump: str) -> dict:
    """Her notebook executed as it is (nbclient, in its own folder) plus one cell ``dump``
    that prints a JSON object: that object."""
    import nbformat
    from nbclient import NotebookClient
    from nbformat.v4 import new_code_cell

    nb = nbformat.read(str(notebook), as_version=4)
    nb.cells.append(new_code_cell(dump))
    NotebookClient(nb, timeout=600, resources={"metadata": {"path": str(notebook.parent)}}
                   ).execute()
    return json.loads("".join(o.get("text", "") for o in nb.cells[-1].outputs))
