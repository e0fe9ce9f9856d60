"""Does a stored model version hold per-row data? The findings of :func:`per_row_data`.

A version's folder in the BentoML store (``model.yaml``, the model file, ``files/``) goes
into every bento and every ``bentoml export``: customer data must not be there. Rows are
recognised as a table file, a ``row`` key, a JSON or YAML list or mapping with as many
entries as the held-out rows, an archived notebook's output table with as many rows, or a
held-out prediction written out at full precision.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

TABLE_SUFFIXES = (".parquet", ".csv", ".feather", ".arrow", ".npy", ".npz", ".pkl", ".pickle")


def _walk(value: Any, where: str, rows: int, found: list[str]) -> None:
    if isinstance(value, dict):
        if "row" in value:
            found.append(f"{where}: a 'row' key")
        if len(value) >= rows:
            found.append(f"{where}: a mapping of {len(value)} entries (held-out rows: {rows})")
        for key, inner in value.items():
            _walk(inner, f"{where}.{key}", rows, found)
    elif isinstance(value, list):
        if len(value) >= rows:
            found.append(f"{where}: a list of {len(value)} entries (held-out rows: {rows})")
        for i, inner in enumerate(value):
            _walk(inner, f"{where}[{i}]", rows, found)


def _notebook(nb: dict, where: str, rows: int, found: list[str]) -> None:
    """An executed notebook's outputs (its text is kept line by line: a long list is not
    a sign of rows, a long table is)."""
    for i, cell in enumerate(nb.get("cells", [])):
        for output in cell.get("outputs", []):
            for mime, text in {**output.get("data", {}), "text": output.get("text", "")}.items():
                text = "".join(text) if isinstance(text, list) else str(text)
                lines = text.count("<tr") if "html" in mime else text.count("\n")
                if lines >= rows:
                    found.append(f"{where}: cell {i} shows a {mime} table of {lines} lines "
                                 f"(held-out rows: {rows})")


def _parsed(path: Path) -> Any:
    text = path.read_text(encoding="utf-8")
    if path.suffix in (".json", ".ipynb"):
        return json.loads(text)
    if path.suffix in (".yaml", ".yml"):
        return yaml.safe_load(text)
    return None


def per_row_data(folder: Path, metadata: Any, rows: int, predictions: Iterable[float],
                 allowed: Iterable[float] = ()) -> list[str]:
    """What in a version's store ``folder`` and ``metadata`` looks like per-row data of a
    held-out set of ``rows`` rows whose ``predictions`` are given; [] when nothing does.
    ``allowed``: predictions known to be kept, left out of the search (say why)."""
    found: list[str] = []
    _walk(metadata, "metadata", rows, found)
    known = {float(a) for a in allowed}
    written = [repr(float(p)).encode() for p in predictions
               if 0 < abs(float(p)) < 1e300 and float(p) not in known]
    written = [w for w in written if len(w) > 8]  # full precision only: no chance match
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        name = str(path.relative_to(folder))
        if path.suffix in TABLE_SUFFIXES:
            found.append(f"{name}: a table file")
            continue
        if zipfile.is_zipfile(path):  # the model file (skops)
            with zipfile.ZipFile(path) as archive:
                data = b"".join(archive.read(n) for n in archive.namelist())
        else:
            data = path.read_bytes()
            try:
                parsed = _parsed(path)
                if path.suffix == ".ipynb":
                    _notebook(parsed, name, rows, found)
                else:
                    _walk(parsed, name, rows, found)
            except (UnicodeDecodeError, ValueError, yaml.YAMLError):
                pass
        hits = [w.decode() for w in written if w in data]
        if hits:
            found.append(f"{name}: {len(hits)} held-out predictions, e.g. {hits[0]}")
    return found
