"""Hostile file names and values reach the files `nbprod new` writes only as data: through
each file's serializer (YAML, a Python literal, JSON), never as YAML keys, Python code or a
Jinja expression. Each case broke or ran code before (a class value wrote a conda channel and
a package into the bento's environment; a file name ran a command through Ploomber's Jinja
and at `pytest --collect-only`)."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from nbprod.scaffold.project import create_project

PAYLOAD = 'yes"\nconda:\n  channels: [evil]\n  pip: ["evil-pkg==6.6.6"]\n#'
FILE_NAMES = [
    "it's.csv",
    '{% for c in "".__class__.__mro__[1].__subclasses__() %}{{c}}{% endfor %}.csv',
    'x"+str(__import__("os").system("touch PWNED"))+".csv',
    "new\nline: 1.csv",
]
CLASSES = ['Yes \\ 5" screen', "hi\\gh", PAYLOAD]


def hostile_data(folder: Path, name: str, positive: str) -> Path:
    rng = np.random.default_rng(0)
    n = 60
    frame = pd.DataFrame({
        "amount": rng.random(n) * 100,
        "plan": rng.choice(["basic", "pro"], n),
        "outcome": [positive if i % 3 == 0 else "No" for i in range(n)],
    })
    path = folder / name
    frame.to_csv(path, index=False)
    return path


def python_strings(source: str) -> set[str]:
    """Every string constant of a Python source (it must parse)."""
    return {n.value for n in ast.walk(ast.parse(source))
            if isinstance(n, ast.Constant) and isinstance(n.value, str)}


@pytest.mark.parametrize("file_name", FILE_NAMES)
@pytest.mark.parametrize("positive", CLASSES)
def test_hostile_names_and_values_are_only_data_in_every_written_file(tmp_path, file_name,
                                                                      positive):
    data = hostile_data(tmp_path, file_name, positive)
    created = create_project(tmp_path / "proj", data, "outcome", positive=positive, wheel=False)
    root = created.path
    (raw,) = (root / "data" / "raw").iterdir()
    assert set(raw.name) <= set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.")
    for path in root.rglob("*"):
        if path.is_dir() or ".git" in path.parts or path.suffix in (".csv", ".gz", ".whl"):
            continue
        text = path.read_text()
        if path.suffix in (".yaml", ".yml"):
            yaml.safe_load(text)  # parses
        elif path.suffix == ".py":
            python_strings(text)  # parses
        elif path.suffix == ".ipynb":
            for cell in json.loads(text)["cells"]:
                if cell["cell_type"] == "code":
                    python_strings("".join(cell["source"]))
    bento = yaml.safe_load((root / "bentofile.yaml").read_text())
    assert set(bento) == {"service", "name", "labels", "description", "include", "python",
                          "docker", "envs"}, "no key came from the data"
    assert positive in bento["description"] and "conda" not in bento
    env = yaml.safe_load((root / "env.yaml").read_text())
    assert env["raw_data"] == "{{here}}/data/raw/" + raw.name  # the only Jinja: Ploomber's own
    service_test = (root / "tests" / "test_service.py").read_text()
    assert raw.name in python_strings(service_test)
    assert positive in python_strings(service_test) or positive not in service_test
    table = yaml.safe_load((root / "columns.yaml").read_text())
    assert table["positive"] == positive
