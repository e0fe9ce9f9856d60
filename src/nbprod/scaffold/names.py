"""Raw headers -> Python identifiers, and a project name -> the names derived from it.

Small pure functions: ``"Annual Income ($)"`` -> ``annual_income``, ``"CustomerID"`` ->
``customer_id``, ``"2nd Line"`` -> ``c_2nd_line``. Names are unique within one table. A name
pydantic keeps for itself (the API's record is a pydantic model: ``model_dump``, ``Model
Extra``, ``model config``, ``json``, ``copy``) gets ``c_`` too: ``c_model_extra``.
"""

from __future__ import annotations

import keyword
import re
import unicodedata

__all__ = ["identifier", "identifiers"]

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_NOT_WORD = re.compile(r"[^0-9a-zA-Z]+")
#: Names a field of a pydantic model cannot take (its namespace ``model_`` and its attributes).
_PYDANTIC = frozenset({"copy", "dict", "json", "schema", "schema_json", "construct",
                       "validate", "parse_obj", "parse_raw", "parse_file", "from_orm",
                       "update_forward_refs"})


def identifier(header: str) -> str:
    """The snake_case identifier for one header (never empty, never a keyword)."""
    text = unicodedata.normalize("NFKD", str(header)).encode("ascii", "ignore").decode()
    text = _CAMEL.sub("_", text)
    name = _NOT_WORD.sub("_", text).strip("_").lower()
    if not name:
        name = "column"
    if name[0].isdigit() or name.startswith("model_") or name in _PYDANTIC:
        name = f"c_{name}"
    if keyword.iskeyword(name) or keyword.issoftkeyword(name):
        name = f"{name}_"
    return name


def identifiers(headers: list[str]) -> dict[str, str]:
    """header -> identifier for every header, in order; a clash gets ``_2``, ``_3``, ..."""
    out: dict[str, str] = {}
    taken: set[str] = set()
    for header in headers:
        base = name = identifier(header)
        n = 1
        while name in taken:
            n += 1
            name = f"{base}_{n}"
        taken.add(name)
        out[header] = name
    return out


#: What a data file's name keeps in a project: it is written into env.yaml (which Ploomber
#: renders with Jinja), columns.yaml, and Python and notebook files.
_UNSAFE_IN_FILE_NAME = re.compile(r"[^A-Za-z0-9_-]+")


def safe_file_name(name: str, suffix: str) -> str:
    """``name`` (a data file's name ending in ``suffix``, e.g. ``.csv.gz``) with nothing but
    letters, digits, ``_`` and ``-`` before its suffix: ``it's {x}.csv`` -> ``it_s_x.csv``."""
    stem = name[: len(name) - len(suffix)] if name.lower().endswith(suffix) else name
    ascii_stem = unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode()
    return (_UNSAFE_IN_FILE_NAME.sub("_", ascii_stem).strip("_-") or "data") + suffix
