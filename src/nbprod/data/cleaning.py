"""Her cleaning step, ``clean(df)`` in her package: one function that the pipeline runs on
the raw frame before the column table is enforced, and the service on every request.

* :func:`apply_cleaning` runs it and checks that it gave a frame back;
* :func:`cleaning_reference` names it (``package.module:function``), for the model's
  metadata; a function a notebook defined cannot be named, so it is refused;
* :func:`load_cleaning` imports it again from that name, where the model is served.
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from ..errors import ConfigError
from .references import import_function

Cleaning = Callable[[pd.DataFrame], pd.DataFrame]


def apply_cleaning(clean: Cleaning, frame: pd.DataFrame, where: str = "clean(df)") -> pd.DataFrame:
    """``clean(frame)``, or :class:`ConfigError` when it does not return a DataFrame."""
    out = clean(frame)
    if not isinstance(out, pd.DataFrame):
        raise ConfigError(f"{where}: {cleaning_name(clean)} must return the cleaned DataFrame, "
                          f"got {type(out).__name__}")
    return out


def cleaning_name(clean: Cleaning) -> str:
    module = getattr(clean, "__module__", None) or "?"
    return f"{module}:{getattr(clean, '__qualname__', repr(clean))}"


def cleaning_reference(clean: Cleaning) -> str:
    """``module:function`` of ``clean``, importable where the model is served."""
    name = cleaning_name(clean)
    module, _, qualname = name.partition(":")
    if module in ("__main__", "?") or "<" in qualname:
        raise ConfigError(f"clean {name!r}: define the cleaning function in your package "
                          "(src/<package>/__init__.py), not in a notebook, so the service can "
                          "import it")
    return name


def load_cleaning(reference: str) -> Cleaning:
    """The function ``module:function`` names, or :class:`ConfigError`."""
    return import_function(reference, f"the model's cleaning step {reference!r}",
                           "install the project's package beside nbprod")
