"""The two steps of an adopted notebook's pipeline that are nbprod's, not hers.

:func:`keep_her_run` ends her notebook's task: her fitted model (the safe format), her
held-out raw rows with her model's answers on her ``X_test``, her training raw rows and her
model's input columns. :func:`serve_her_model` is the ``train`` task: her model behind her
package's ``features`` function (:mod:`nbprod.model.adopted`), checked against those answers
(a :class:`~nbprod.errors.ParityError` fails the build, naming the first row and column),
then stored with the held-out rows, the feature schema and the reference statistics that
nbprod's evaluate and register tasks read.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

__all__ = ["check_parity", "keep_her_run", "load_value", "save_value", "serve_her_model"]

#: the prefix of her model's answers beside her held-out raw rows
ANSWER = "__her_"
#: the column (prefix) of an array kept where her frame of the same name is kept
ARRAY = "__array__"


def _parquet(frame: pd.DataFrame, path: str) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    frame.to_parquet(path)


def _array_frame(value: Any) -> pd.DataFrame:
    """An array (1-D or 2-D) as a frame that :func:`load_value` gives back as that array: a
    name that holds a frame at the end of her notebook may hold an array in an earlier task
    (``X = df[['x']].to_numpy().reshape(-1, 1)``)."""
    import numpy as np

    array = np.asarray(value)
    if array.ndim == 1:
        return pd.DataFrame({ARRAY: array})
    return pd.DataFrame(array, columns=[f"{ARRAY}{i}" for i in range(array.shape[1])])


def save_value(value: Any, path: str) -> None:
    """One variable passed from her task to a later one, in a format that runs no code on
    load: ``.parquet`` (a frame), ``.series.parquet``, ``.npy`` (no pickle), ``.skops`` (a
    model), ``.json``."""
    import numpy as np

    from ..errors import ConfigError
    from ..model.artifacts import save_model

    Path(path).parent.mkdir(parents=True, exist_ok=True)
    if path.endswith(".series.parquet"):
        _parquet(pd.Series(value).to_frame(name="value" if value.name is None else str(value.name)),
                 path)
    elif path.endswith(".parquet"):
        _parquet(value if isinstance(value, pd.DataFrame) else _array_frame(value), path)
    elif path.endswith(".npy"):
        np.save(path, np.asarray(value), allow_pickle=False)
    elif path.endswith(".skops"):
        save_model(value, path)
    elif path.endswith(".json"):
        Path(path).write_text(json.dumps(value))
    else:
        raise ConfigError(f"{path}: no format for a value passed between tasks")


def load_value(path: str) -> Any:
    """A variable :func:`save_value` wrote."""
    import numpy as np

    from ..model.artifacts import load_model_file

    if path.endswith(".series.parquet"):
        frame = pd.read_parquet(path)
        series = frame.iloc[:, 0]
        return series.rename(None) if frame.columns[0] == "value" else series
    if path.endswith(".parquet"):
        frame = pd.read_parquet(path)
        if list(frame.columns[:1]) == [ARRAY]:  # an array where the name held a frame at the end
            return frame[ARRAY].to_numpy()
        if str(next(iter(frame.columns), "")).startswith(ARRAY):
            return frame.to_numpy()
        return frame
    if path.endswith(".npy"):
        return np.load(path, allow_pickle=False)
    if path.endswith(".skops"):
        return load_model_file(path)
    return json.loads(Path(path).read_text())


def keep_her_run(product: Mapping[str, str], model: Any, raw: pd.DataFrame,
                 X_train: pd.DataFrame, X_test: pd.DataFrame,
                 target: tuple[str, Any, Any] | None = None) -> str:
    """Write what her notebook produced for the rest of the pipeline; returns a summary.
    ``target`` is ``(name, y_train, y_test)`` when her notebook computes her target: its
    values go beside her raw rows."""
    import numpy as np

    from ..model.adopted import answers
    from ..model.artifacts import save_model

    save_model(model, product["her_model"])
    held, trained = raw.loc[X_test.index], raw.loc[X_train.index]
    if target is not None:
        name, y_train, y_test = target
        held, trained = (held.assign(**{name: np.asarray(y_test)}),
                         trained.assign(**{name: np.asarray(y_train)}))
    said = answers(model, X_test).add_prefix(ANSWER)
    _parquet(pd.concat([held, said], axis=1), product["heldout"])
    _parquet(trained, product["training_rows"])
    _parquet(X_train.iloc[:0], product["model_input"])
    if "raw_rows" in product:  # what her statistics(df) is fitted on in the train task
        _parquet(raw, product["raw_rows"])
    return (f"kept her model, {len(held):,} held-out raw rows with its answers and "
            f"{len(X_train):,} training rows")


def check_parity(served: Any, held: pd.DataFrame, table: Any, where: str = "heldout") -> pd.DataFrame:
    """Her held-out raw rows (with her model's answers, :func:`keep_her_run`) through the
    served model as the service feeds it (declared names and dtypes); raises
    :class:`~nbprod.errors.ParityError` at the first differing row and column. Returns the
    rows as declared (the held-out frame of nbprod's evaluate task)."""
    from ..data.dataset import features as declared_features
    from ..data.validation import prepare
    from ..model.adopted import answers, parity

    raw_order = [c for c in held.columns if not str(c).startswith(ANSWER)]
    expected = held[[c for c in held.columns if str(c).startswith(ANSWER)]]
    expected.columns = [str(c)[len(ANSWER):] for c in expected.columns]
    test = prepare(held[raw_order], table)
    got = answers(served, declared_features(test, table)).set_axis(expected.index)
    parity(expected, got, where=f"{where}: held-out rows")
    return test


def serve_her_model(upstream: Mapping[str, str], product: Mapping[str, str], columns: str,
                    features: Callable[[pd.DataFrame], pd.DataFrame]) -> str:
    """Her model served on declared records, its parity checked, its products written."""
    from ..data.columns import ColumnTable
    from ..data.schema import derive_feature_schema, reference_statistics
    from ..data.validation import prepare
    from ..model.adopted import served_pipeline
    from ..model.artifacts import load_model_file, save_model

    table = ColumnTable.load(columns)
    model = load_model_file(upstream["her_model"])
    held = pd.read_parquet(upstream["heldout"])
    raw_order = [c for c in held.columns if not str(c).startswith(ANSWER)]
    headers = {name: header for header, name in table.renames.items()}
    statistics = getattr(importlib.import_module(features.__module__), "statistics", None)
    served = served_pipeline(model, features, pd.read_parquet(upstream["model_input"]),
                             headers, raw_order, statistics,
                             pd.read_parquet(upstream["raw_rows"]) if statistics else None)
    test = check_parity(served, held, table, where=Path(upstream["heldout"]).name)
    train = prepare(pd.read_parquet(upstream["training_rows"]), table)
    schema = derive_feature_schema(train, table)
    for key, frame in {"test": test, "train": train}.items():
        if key in product:
            _parquet(frame, product[key])
    Path(product["schema"]).parent.mkdir(parents=True, exist_ok=True)
    schema.save(product["schema"])
    Path(product["reference"]).write_text(
        json.dumps(reference_statistics(train, schema), indent=2) + "\n")
    save_model(served, product["model"])
    return (f"the served pipeline answers her {len(test):,} held-out rows as her notebook's "
            "model does (parity within 1e-6 relative, labels equal)")
