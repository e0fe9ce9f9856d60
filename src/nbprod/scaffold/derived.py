"""A target her own ``clean(df)`` computes: ``nbprod new --target price --clean FILE``.

``FILE`` is a Python file of hers defining ``clean(df) -> df``, the project's cleaning step
(it runs before validation in the pipeline and on every request in the service). When it
adds the column ``--target`` names, :func:`derive` runs it on the raw frame, finds the raw
columns the target is made from (the ones without which ``clean`` no longer gives the same
target, tried on a sample) and leaves them out of the features and the API (``dropped:``,
with that reason). ``nbprod new`` then infers the table from the cleaned frame, copies the
file into the project's package (``src/<name>/cleaning.py``) and makes it the package's
``clean``. Since the service runs ``clean`` on each request's features, which do not hold
those columns, it must compute the target only when they are there::

    def clean(df):
        if {"Low Price", "High Price"} <= set(df.columns):
            df = df.assign(price=(df["Low Price"] + df["High Price"]) / 2)
        return df

It sees the columns left out under their raw headers (as ``nbprod new`` shows them) and
the declared ones under their declared names.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pandas as pd

from ..data.cleaning import Cleaning, apply_cleaning
from ..errors import ConfigError
from .names import identifier

#: rows of the sample the target's sources are found on
SAMPLE_ROWS = 200
#: why a source of the target is left out
REASON = "used by clean() to compute the target"


def load_clean(path: str | Path) -> Cleaning:
    """The ``clean`` function of her file ``path``, or a one-line :class:`ConfigError`."""
    path = Path(path)
    if not path.is_file() or path.suffix != ".py":
        raise ConfigError(f"--clean {path}: not a Python file (.py) defining clean(df)")
    spec = importlib.util.spec_from_file_location(f"_nbprod_clean_{abs(hash(path))}", path)
    if spec is None or spec.loader is None:
        raise ConfigError(f"--clean {path}: cannot be imported")
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as exc:  # noqa: BLE001 - her file's own error, reported in one line
        raise ConfigError(f"--clean {path}: importing it failed: {type(exc).__name__}: {exc}"
                          ) from None
    clean = getattr(module, "clean", None)
    if not callable(clean):
        raise ConfigError(f"--clean {path}: defines no function clean(df)")
    return clean


def _run(clean: Cleaning, frame: pd.DataFrame, where: str) -> pd.DataFrame | Exception:
    try:
        return apply_cleaning(clean, frame.copy(), where)
    except Exception as exc:  # noqa: BLE001 - her code's own errors, whatever their type
        return exc


def derive(frame: pd.DataFrame, clean: Cleaning, target: str, where: str
           ) -> tuple[pd.DataFrame, list[str]]:
    """The frame as ``clean`` leaves it, without the raw columns ``target`` is computed
    from, and those columns' headers (none when ``target`` is a raw column)."""
    cleaned = _run(clean, frame, where)
    if isinstance(cleaned, Exception):
        raise ConfigError(f"--clean {where}: clean(df) failed on the data: "
                          f"{type(cleaned).__name__}: {cleaned}")
    if any(identifier(str(h)) == identifier(target) for h in frame.columns):
        return cleaned, []  # a raw column: nothing computed
    if target not in cleaned.columns:
        added = [str(c) for c in cleaned.columns if c not in frame.columns]
        raise ConfigError(f"--target {target!r} is neither a column of the data nor one that "
                          f"clean() in {where} adds (it adds {added})")
    if not target.isidentifier():
        raise ConfigError(f"--target {target!r}: a column clean() adds must be named as an "
                          "identifier (letters, digits, _), e.g. price")
    sample = frame.head(SAMPLE_ROWS)
    expected = _run(clean, sample, where)
    assert isinstance(expected, pd.DataFrame)  # it ran on the whole frame
    sources = [str(c) for c in frame.columns if not _same_target(
        _run(clean, sample.drop(columns=c), where), expected[target], target)]
    if not sources:
        raise ConfigError(f"--target {target!r}: clean() in {where} adds it without reading "
                          "any column of the data; there is nothing to learn")
    bare = _run(clean, sample.drop(columns=sources), where)
    if isinstance(bare, Exception):
        raise ConfigError(
            f"--clean {where}: clean(df) fails without the columns it computes {target!r} "
            f"from ({type(bare).__name__}: {bare}); the service runs it on each request's "
            f"features, which do not hold {sources}: compute {target!r} only when they are "
            "there (docs/new-project.md, 'A computed target')")
    return cleaned.drop(columns=sources), sources


def _same_target(out: pd.DataFrame | Exception, expected: pd.Series, target: str) -> bool:
    if isinstance(out, Exception) or target not in out.columns:
        return False
    return bool(out[target].reset_index(drop=True).equals(expected.reset_index(drop=True)))


def packaged(init: str) -> str:
    """The project package's ``__init__.py`` with its ``clean`` taken from her file
    (``cleaning.py`` beside it) instead of the default that does nothing."""
    head = init[:init.index("def clean(")].rstrip() + "\n"
    return head.replace("import pandas as pd\n",
                        "from .cleaning import clean  # her clean(df), from nbprod new --clean\n",
                        1) + '\n__all__ = ["RULES", "clean"]\n'
