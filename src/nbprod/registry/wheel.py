"""A wheel of the running nbprod (or of a project's own package), for a bento to carry.

A project made by ``nbprod new`` lives outside this repository, and the container built
from its bento must ``import nbprod`` with nothing else. :func:`build_wheel` writes a
standard wheel (PEP 427) from the installed package's own files and metadata, whether
nbprod was installed from a wheel or in editable mode from a source tree, so the bento
(``python.wheels`` in ``bentofile.yaml``) and the project (``wheels/``) hold exactly the
toolkit that built them. The wheel also carries the distribution's data files (nbprod's
prebuilt JupyterLab panel and its server config, pyproject's ``data-files``): those it
installed, or, for an editable install, those its source tree's ``pyproject.toml`` names.
"""

from __future__ import annotations

import base64
import hashlib
import importlib
import importlib.util
import re
import tomllib
import zipfile
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path

from ..errors import ConfigError

PACKAGE = "nbprod"
_SKIP_DIRS = {"__pycache__"}
_SKIP_SUFFIXES = {".pyc", ".pyo"}
_SKIP_ROOT = {"pyproject.toml", "setup.py", "setup.cfg"}
#: where a wheel's data files go that JupyterLab and Jupyter server read
_DATA_ROOTS = ("share/jupyter/", "etc/jupyter/")


def wheel_name(version: str, dist: str = PACKAGE) -> str:
    return f"{_normal(dist)}-{version}-py3-none-any.whl"


def _normal(dist: str) -> str:
    """A distribution's name as wheel file names spell it (PEP 427: runs of -_. as _)."""
    return re.sub(r"[-_.]+", "_", dist).lower()


def _package_files(root: Path) -> list[Path]:
    """The package's files: not bytecode, not the build's metadata (``*.egg-info``, a
    ``pyproject.toml`` of a package that is its own project folder)."""
    return sorted(
        p for p in root.rglob("*")
        if p.is_file() and not _SKIP_DIRS & set(p.relative_to(root).parts)
        and not any(part.endswith(".egg-info") for part in p.relative_to(root).parts)
        and p.suffix not in _SKIP_SUFFIXES and p.relative_to(root).as_posix() not in _SKIP_ROOT
    )


def _data_files(found, package_root: Path) -> list[tuple[str, Path]]:
    """The distribution's data files, as (path under the wheel's ``.data/data/``, file)."""
    installed = [(f.as_posix().split("/../")[-1].lstrip("./"), Path(str(found.locate_file(f))))
                 for f in ((found.files if found else None) or []) if f.as_posix().startswith("../")]
    data = [(name[name.index(d):], path) for name, path in installed
            for d in _DATA_ROOTS if d in name and path.is_file()]
    if data:
        return sorted(set(data))
    pyproject = package_root.parent.parent / "pyproject.toml"  # src/<package> of a source tree
    if not pyproject.is_file():
        return []
    table = tomllib.loads(pyproject.read_text()).get("tool", {}).get("setuptools", {})
    source = pyproject.parent
    return sorted((f"{dest}/{path.name}", path)
                  for dest, patterns in table.get("data-files", {}).items()
                  for pattern in patterns for path in source.glob(pattern) if path.is_file())


def _record_line(name: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def build_wheel(dest_dir: str | Path, dist: str = PACKAGE, package: str | None = None,
                requirements: bool = True) -> Path:
    """Write ``<dist>-<version>-py3-none-any.whl`` of the installed distribution ``dist``
    (nbprod by default) into ``dest_dir``, from its import package ``package``'s files.

    The same files always give the same bytes (fixed timestamps, sorted entries), so a
    rebuilt bento does not change only because the wheel was written again. With
    ``requirements=False`` the wheel declares no dependencies (a project's own package in a
    bento, whose requirements are pinned by the bentofile instead).
    """
    try:
        found = distribution(dist)
        version = found.version
        metadata = found.read_text("METADATA") or found.read_text("PKG-INFO")
        entry_points = found.read_text("entry_points.txt") or ""
    except PackageNotFoundError:
        found = None
        if package is None or importlib.util.find_spec(package) is None:
            raise ConfigError(f"{dist} is not installed (pip install it), so it cannot be "
                              "packaged as a wheel") from None
        # importable from its source folder only (PYTHONPATH): packaged as it is found
        version, entry_points = "0.0.0", ""
        metadata = f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n"
    if not metadata:
        raise ConfigError(f"the installed {dist} {version} has no METADATA")
    if not requirements:
        metadata = "".join(line for line in metadata.splitlines(keepends=True)
                           if not line.startswith("Requires-Dist:"))
    module = importlib.import_module(package or dist)
    if module.__file__ is None:
        raise ConfigError(f"{package or dist} is a namespace package; it cannot be packaged")
    root = Path(module.__file__).resolve().parent
    top = module.__name__
    info = f"{_normal(dist)}-{version}.dist-info"
    entries: list[tuple[str, bytes]] = [
        (f"{top}/{p.relative_to(root).as_posix()}", p.read_bytes()) for p in _package_files(root)
    ]
    if dist == PACKAGE:  # the toolkit's JupyterLab panel
        entries += [(f"{_normal(dist)}-{version}.data/data/{name}", path.read_bytes())
                    for name, path in _data_files(found, root)]
    entries.append((f"{info}/METADATA", metadata.encode()))
    entries.append((f"{info}/WHEEL", (
        b"Wheel-Version: 1.0\nGenerator: nbprod.registry.wheel\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    )))
    if entry_points:
        entries.append((f"{info}/entry_points.txt", entry_points.encode()))
    entries.append((f"{info}/top_level.txt", f"{top}\n".encode()))
    record = "\n".join([*(_record_line(n, d) for n, d in entries), f"{info}/RECORD,,"]) + "\n"
    entries.append((f"{info}/RECORD", record.encode()))

    dest = Path(dest_dir)
    dest.mkdir(parents=True, exist_ok=True)
    target = dest / wheel_name(version, dist)
    tmp = target.with_suffix(".tmp")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries:
            zinfo = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            zinfo.external_attr = 0o644 << 16
            zinfo.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(zinfo, data)
    tmp.replace(target)
    return target
