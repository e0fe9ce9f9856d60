"""A wheel of the running nbprod, so a project and its bento can carry the toolkit.

A project made by ``nbprod new`` lives outside this repository, and the container built
from its bento must ``import nbprod`` with nothing else. :func:`build_wheel` writes a
standard wheel (PEP 427) from the installed package's own files and metadata, whether
nbprod was installed from a wheel or in editable mode from a source tree, so the bento
(``python.wheels`` in ``bentofile.yaml``) and the project (``wheels/``) hold exactly the
toolkit that built them.
"""

from __future__ import annotations

import base64
import hashlib
import zipfile
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path

from ..errors import ConfigError

PACKAGE = "nbprod"
_SKIP_DIRS = {"__pycache__"}
_SKIP_SUFFIXES = {".pyc", ".pyo"}


def wheel_name(version: str) -> str:
    return f"{PACKAGE}-{version}-py3-none-any.whl"


def _package_files(root: Path) -> list[Path]:
    return sorted(
        p for p in root.rglob("*")
        if p.is_file() and not _SKIP_DIRS & set(p.relative_to(root).parts)
        and p.suffix not in _SKIP_SUFFIXES
    )


def _record_line(name: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def build_wheel(dest_dir: str | Path) -> Path:
    """Write ``nbprod-<version>-py3-none-any.whl`` of the running nbprod into ``dest_dir``.

    The same files always give the same bytes (fixed timestamps, sorted entries), so a
    rebuilt bento does not change only because the wheel was written again.
    """
    import nbprod

    try:
        dist = distribution(PACKAGE)
    except PackageNotFoundError:
        raise ConfigError("nbprod is not installed (pip install it), so it cannot be "
                          "packaged as a wheel") from None
    version = dist.version
    metadata = dist.read_text("METADATA") or dist.read_text("PKG-INFO")
    if not metadata:
        raise ConfigError(f"the installed {PACKAGE} {version} has no METADATA")
    entry_points = dist.read_text("entry_points.txt") or ""
    root = Path(nbprod.__file__).resolve().parent
    info = f"{PACKAGE}-{version}.dist-info"
    entries: list[tuple[str, bytes]] = [
        (f"{PACKAGE}/{p.relative_to(root).as_posix()}", p.read_bytes()) for p in _package_files(root)
    ]
    entries.append((f"{info}/METADATA", metadata.encode()))
    entries.append((f"{info}/WHEEL", (
        b"Wheel-Version: 1.0\nGenerator: nbprod.registry.wheel\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    )))
    if entry_points:
        entries.append((f"{info}/entry_points.txt", entry_points.encode()))
    entries.append((f"{info}/top_level.txt", f"{PACKAGE}\n".encode()))
    record = "\n".join([*(_record_line(n, d) for n, d in entries), f"{info}/RECORD,,"]) + "\n"
    entries.append((f"{info}/RECORD", record.encode()))

    dest = Path(dest_dir)
    dest.mkdir(parents=True, exist_ok=True)
    target = dest / wheel_name(version)
    tmp = target.with_suffix(".tmp")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries:
            zinfo = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            zinfo.external_attr = 0o644 << 16
            zinfo.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(zinfo, data)
    tmp.replace(target)
    return target
