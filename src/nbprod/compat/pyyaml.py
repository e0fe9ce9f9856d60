"""A YAML dumper whose strings no other library can restyle, written for PyYAML 6.0.4.

Bug (hera 7.1.0, any library doing the same): importing ``hera`` registers its own ``str``
representer on PyYAML's ``SafeRepresenter``, process-wide, so every ``yaml.safe_dump``
afterwards writes a multi-line string as a block scalar (``|``). In a flow mapping, which a
block scalar cannot live in, the value then swallows what follows it on the line: a class
value with a newline came back from ``columns.yaml`` with the line's comment appended.

:class:`PlainDumper` has PyYAML's own ``str`` representer, registered on itself, so what
others register on ``SafeDumper`` does not reach it. Can go when no library in use patches
PyYAML globally (the canary in ``tests/unit/compat/test_compat_pyyaml.py``).
"""

from __future__ import annotations

from typing import Any

import yaml


class PlainDumper(yaml.SafeDumper):
    """``yaml.SafeDumper`` with PyYAML's own string representer, whatever was registered."""


PlainDumper.add_representer(str, yaml.representer.SafeRepresenter.represent_str)


def safe_dump(value: Any, **options: Any) -> str:
    """``yaml.safe_dump(value, **options)`` with :class:`PlainDumper` (nothing is patched,
    so nothing here depends on the installed versions)."""
    return yaml.dump(value, Dumper=PlainDumper, **options)
