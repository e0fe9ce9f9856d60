"""The API fields of the kinds that are text on the wire: ``datetime`` and ``text``.

A ``datetime`` feature is a JSON string holding an ISO date or timestamp, or a date in
its declared ``format`` (:mod:`nbprod.data.dates`), within its declared range, if any; a ``text`` feature a JSON string of at most its
``max_length`` characters. Anything else is refused by pydantic, so the client gets a 400
whose ``detail`` names the field, never a 500. Blank strings the raw file used
(``missing:``) and, when the feature is nullable, ``null`` are read as a blank.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Literal

import pandas as pd
from pydantic import AfterValidator, Field

from ..data.dates import declared_range, expected, outside, parses, range_text
from ..data.schema import Feature

#: the kinds this module gives the field of
KINDS = ("datetime", "text")


def free_field(feature: Feature) -> Any:
    """The pydantic type of one ``datetime`` or ``text`` feature."""
    null = "; may be null" if feature.nullable else ""
    kind: Any
    if feature.kind == "text":
        bound = f" of at most {feature.max_length} characters" if feature.max_length else ""
        kind = Annotated[str, Field(strict=True, max_length=feature.max_length,
                                    description=f"{feature.name}: free text{bound}{null}")]
    else:
        low, high = declared_range(feature.min, feature.max)
        span = f", {range_text(low, high)}" if low is not None or high is not None else ""
        fmt = feature.format
        info = Field(strict=True, description=f"{feature.name}: {expected(fmt)}{span}{null}",
                     json_schema_extra={"format": "date-time"} if fmt is None else None)
        kind = Annotated[str, info, AfterValidator(_parsed(fmt)),
                         AfterValidator(_within(low, high, fmt))]
    if feature.missing:
        blank = Annotated[Literal[tuple(feature.missing)],  # type: ignore[valid-type]
                          AfterValidator(_null)]
        return kind | blank | None
    return kind | None if feature.nullable else kind


def _parsed(fmt: str | None) -> Callable[[str], str]:
    """The check of a date's text: the 400 says the format expected."""
    def check(value: str) -> str:
        if not parses(value, fmt):
            raise ValueError(f"expected {expected(fmt)}, got {value[:40]!r}")
        return value
    return check


def _within(low: str | None, high: str | None, fmt: str | None) -> Callable[[str], str]:
    """The check of a date against its declared range: the 400 says the range."""
    def check(value: str) -> str:
        if (low is not None or high is not None) and outside(
                pd.Series([value], dtype=object), low, high, fmt).iloc[0]:
            raise ValueError(f"expected a date {range_text(low, high)}, got {value[:40]!r}")
        return value
    return check


def _null(_: Any) -> None:
    return None
