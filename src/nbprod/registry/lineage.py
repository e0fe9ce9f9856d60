"""Where a model came from: code version, data fingerprints, notebooks, packages."""

from __future__ import annotations

import ast
import hashlib
import platform
import subprocess
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from ..errors import ConfigError

INJECTED_TAG = "injected-parameters"


def sha256_file(path: str | Path, chunk_size: int = 1 << 20) -> str:
    """The hex sha256 of a file, read in chunks (any size)."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(chunk_size), b""):
            digest.update(chunk)
    return digest.hexdigest()


def git_info(path: str | Path) -> dict[str, Any]:
    """The commit checked out at ``path`` and whether the work tree is dirty.

    Outside a git checkout (a copied project, an unpacked archive) both are
    reported as unknown rather than failing the build.
    """
    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=path, capture_output=True, text=True, check=True, timeout=30
        ).stdout.strip()

    try:
        commit = git("rev-parse", "HEAD")
        dirty = bool(git("status", "--porcelain", "--untracked-files=no"))
    except (subprocess.CalledProcessError, FileNotFoundError, subprocess.TimeoutExpired):
        return {"commit": "unknown", "dirty": "unknown"}
    return {"commit": commit, "dirty": dirty}


def package_versions(names: list[str]) -> dict[str, str]:
    """Installed versions of ``names`` plus the Python version."""
    out = {"python": platform.python_version()}
    for name in names:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "not installed"
    return out


def notebook_parameters(path: str | Path) -> dict[str, Any]:
    """The parameters an executed notebook actually ran with.

    Reads the cell papermill/Ploomber injected (tag ``injected-parameters``) and
    evaluates its literal assignments, so lineage records the resolved values,
    not the defaults of the source notebook.
    """
    import nbformat

    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code" and INJECTED_TAG in cell.get("metadata", {}).get("tags", []):
            return _literal_assignments(cell.source, path)
    raise ConfigError(f"{path}: no cell tagged {INJECTED_TAG!r}; was it executed by the pipeline?")


def _literal_assignments(source: str, where: str | Path) -> dict[str, Any]:
    out = {}
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
            if isinstance(target, ast.Name):
                try:
                    out[target.id] = ast.literal_eval(node.value)
                except ValueError:
                    raise ConfigError(
                        f"{where}: injected parameter {target.id!r} is not a literal"
                    ) from None
    return out


def executed_notebooks(
    paths: dict[str, str | Path], root: str | Path = "."
) -> dict[str, dict[str, Any]]:
    """For each task's executed notebook: its path (relative to ``root`` when inside
    it), sha256 and the parameters it ran with (``upstream`` and ``product`` left out)."""
    out = {}
    for task in sorted(paths):
        path = paths[task]
        params = notebook_parameters(path)
        params.pop("product", None)
        params.pop("upstream", None)
        out[task] = {
            "path": relative_to(path, root),
            "sha256": sha256_file(path),
            "parameters": _relative_paths(params, root, Path(path).parent),
        }
    return out


def _relative_paths(value: Any, root: str | Path, here: Path) -> Any:
    """Paths inside ``root`` made relative to it, so lineage does not name a machine:
    absolute ones, and those a report writes relative to its folder ``here``
    (``./x``, ``../x``; see :mod:`nbprod.pipeline.reports`)."""
    if isinstance(value, dict):
        return {k: _relative_paths(v, root, here) for k, v in value.items()}
    if isinstance(value, list):
        return [_relative_paths(v, root, here) for v in value]
    if isinstance(value, str) and Path(value).is_absolute():
        return relative_to(value, root)
    if isinstance(value, str) and value.startswith(("./", "../")):
        return relative_to(here / value, root)
    return value


def relative_to(path: str | Path, root: str | Path) -> str:
    """``path`` relative to ``root`` if it lies inside it, else as given."""
    path, root = Path(path).resolve(), Path(root).resolve()
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)


def verify_file(path: str | Path, sha256: str, root: str | Path = ".") -> str:
    """``ok``, ``modified`` or ``missing``: does the file still match its recorded hash?"""
    full = Path(root) / path
    if not full.is_file():
        return "missing"
    return "ok" if sha256_file(full) == sha256 else "modified"


def find_project_root(start: str | Path | None = None, marker: str = "pipeline.yaml") -> Path:
    """The nearest folder at or above ``start`` (default: the working directory) that
    holds ``marker``: the project root, whether a notebook runs from the project
    (Ploomber) or from ``notebooks/`` (JupyterLab)."""
    here = Path(start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / marker).is_file():
            return folder
    raise ConfigError(f"no {marker} in {here} or any folder above it; run from the project")
