"""A function of her package named ``module:function`` (her cleaning step, her split),
imported where the pipeline or the service runs."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from ..errors import ConfigError


def import_function(reference: str, what: str, hint: str) -> Callable[..., Any]:
    """The function ``module:function`` names, or :class:`ConfigError` starting with
    ``what`` (``cannot be imported (...); {hint}`` or ``is not a function``)."""
    module, _, qualname = reference.partition(":")
    try:
        value: object = importlib.import_module(module)
        for part in qualname.split("."):
            value = getattr(value, part)
    except (ImportError, AttributeError) as exc:
        raise ConfigError(f"{what} cannot be imported ({exc}); {hint}") from None
    if not callable(value):
        raise ConfigError(f"{what} is not a function")
    return value
