"""Every workaround of a dependency's bug, one module per dependency.

===================  ==========================================================  ====
Each module says the bug, the versions it was seen on and when its patch can go. Each
patch calls :func:`written_for` with the version it was written for: on any other installed
version it warns once (:class:`CompatWarning`), since the bug may be fixed or the private
code it touches changed. ``tests/unit/compat/test_compat_*.py`` show each bug on the pinned
versions (a canary fails the day a bug is fixed, so the patch can be dropped).

``compat`` is part of the toolkit's floor (ARCHITECTURE.md): every stage may import it, and it
imports nothing of theirs. That is why ``asgi`` (the two ASGI primitives the JSON-API
workaround shares with the service's guard) lives here, though it works around nothing.

May import: :mod:`nbprod.errors` and itself.
"""

from __future__ import annotations

import logging
import warnings
from importlib.metadata import PackageNotFoundError, version

log = logging.getLogger(__name__)

_WARNED: set[tuple[str, str]] = set()


class CompatWarning(UserWarning):
    """A dependency patch runs on a version of the dependency it was not written for."""


def installed(distribution: str) -> str | None:
    """The installed version of ``distribution``, or None."""
    try:
        return version(distribution)
    except PackageNotFoundError:
        return None


def written_for(distribution: str, pinned: str, patch: str) -> bool:
    """Whether ``distribution`` is installed at ``pinned``, the version ``patch`` was written
    for. If not, warns once per patch and process (the patch is still applied)."""
    found = installed(distribution)
    if found == pinned:
        return True
    if (distribution, patch) not in _WARNED:
        _WARNED.add((distribution, patch))
        warnings.warn(
            f"nbprod.compat: {patch} was written for {distribution} {pinned}, but "
            f"{distribution} {found or 'is not installed'}{' is installed' if found else ''}: "
            "the bug it works around may be fixed or the code it patches changed; "
            "nbprod's compat tests show which (pin the tested version meanwhile)",
            CompatWarning, stacklevel=3,
        )
    return False
