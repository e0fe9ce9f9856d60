"""Positive numbers read from environment variables, with errors that name the variable."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TypeVar

from .errors import ConfigError

Number = TypeVar("Number", int, float)


def positive(name: str, raw: str, kind: type[Number]) -> Number:
    """``raw`` (the value of ``$name``) as a positive ``kind``, or :class:`ConfigError`."""
    try:
        value = kind(raw.strip())
    except ValueError:
        raise ConfigError(f"${name}={raw!r} is not a{'n' if kind is int else ''} "
                          f"{kind.__name__}") from None
    if value <= 0:
        raise ConfigError(f"${name}={raw!r} must be positive")
    return value


def env_positive(name: str, kind: type[Number], default: Number,
                 environ: Mapping[str, str] | None = None) -> Number:
    """``$name`` as a positive ``kind``; ``default`` when it is unset or empty."""
    raw = (os.environ if environ is None else environ).get(name, "").strip()
    return positive(name, raw, kind) if raw else default
