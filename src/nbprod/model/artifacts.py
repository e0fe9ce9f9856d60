"""Model files whose loading runs no code outside an explicit list of trusted types.

A model is written with skops (``skops.io.dump``), which stores the object tree as
data: loading it rebuilds only types on a list, and refuses every other type before
creating anything. A pickle (joblib) runs whatever its ``__reduce__`` names, so a
file written by anyone who can write the model store or the products folder could run
code in the server or the build; this module never unpickles.

The trusted list is skops' own defaults (scikit-learn's estimators, numpy, scipy and
Python builtins) plus :data:`TRUSTED_TYPES`, and an operator may add reviewed types
with ``$NBPROD_TRUSTED_TYPES`` (comma-separated). The list never comes from the file
or from the store, which an attacker could write.
"""

from __future__ import annotations

import logging
import os
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..errors import ModelStoreError

log = logging.getLogger(__name__)

#: The format and file name new models are stored with (recorded in their metadata).
FORMAT = "skops"
FILE_NAME = "model.skops"
#: Types trusted beyond skops' defaults. HistGradientBoosting's tree nodes: skops flags
#: them because a crafted node index could crash ``predict`` (not run code); the files
#: are ours and sha256-checked against accidental damage.
TRUSTED_TYPES: tuple[str, ...] = (
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
    # SimpleImputer keeps the dtype it was fitted on (``_fit_dtype``); skops rebuilds a
    # dtype from its name, which runs no code (nbprod.model.modeling imputes nullable columns).
    "numpy.dtype",
)
#: Extra reviewed types an operator trusts, comma-separated.
TRUSTED_ENV = "NBPROD_TRUSTED_TYPES"


def trusted_types(extra: Sequence[str] = ()) -> list[str]:
    """The types trusted beyond skops' defaults: ours, ``extra`` and ``$NBPROD_TRUSTED_TYPES``."""
    from_env = [t.strip() for t in os.environ.get(TRUSTED_ENV, "").split(",") if t.strip()]
    return sorted({*TRUSTED_TYPES, *extra, *from_env})


def save_model(model: Any, path: str | Path) -> Path:
    """Write ``model`` to ``path`` in the skops format; refuse a model that could not be
    loaded back (a type outside the trusted list), naming the type."""
    import skops.io as sio

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = sio.dumps(model)
    untrusted = _untrusted(sio.get_untrusted_types(data=data))
    if untrusted:
        raise ModelStoreError(
            f"{path}: the model holds type(s) outside the trusted list: {', '.join(untrusted)}; "
            f"it could not be loaded back. Review them and add them to ${TRUSTED_ENV} "
            "(comma-separated) if you trust them"
        )
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
    log.debug("saved %s model to %s", FORMAT, path)
    return path


def load_model_file(path: str | Path, trusted: Sequence[str] = ()) -> Any:
    """Load a model written by :func:`save_model`, refusing any type outside the trusted list.

    Raises :class:`ModelStoreError` naming the file and the fault: missing, not a skops
    file (a pickle, a truncated or damaged archive), or holding untrusted type(s).
    """
    import skops.io as sio
    from skops.io.exceptions import UntrustedTypesFoundException

    path = Path(path)
    if not path.is_file():
        raise ModelStoreError(f"{path}: model file not found; run the pipeline (make run)")
    allowed = trusted_types(trusted)
    try:
        return sio.load(path, trusted=allowed)
    except UntrustedTypesFoundException:
        found = _untrusted(sio.get_untrusted_types(file=path), allowed)
        raise ModelStoreError(
            f"{path}: refusing to load type(s) outside the trusted list: {', '.join(found)}; "
            f"loading them could run code. If you reviewed and trust them, add them to "
            f"${TRUSTED_ENV}"
        ) from None
    except (zipfile.BadZipFile, KeyError, ValueError, EOFError, OSError) as exc:
        raise ModelStoreError(
            f"{path}: not a readable {FORMAT} model file ({type(exc).__name__}: {exc}); "
            "it is truncated, damaged or in another format (a pickle?): retrain (make run)"
        ) from None


def _untrusted(found: Sequence[str], allowed: Sequence[str] | None = None) -> list[str]:
    trusted = set(trusted_types() if allowed is None else allowed)
    return sorted(t for t in found if t not in trusted)
