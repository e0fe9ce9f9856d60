"""The register step of a pipeline in one call: lineage, registration and the gate.

:func:`register_run` reads what the earlier tasks produced (the fitted model, its
held-out metrics, the feature schema and the training reference statistics), assembles
the lineage (the parameters each notebook really ran with, the git commit, the sha256 of
the raw data and of every executed notebook, library versions), registers the model in
the BentoML store with the executed notebooks archived beside it, and lets the quality
gate decide whether it replaces production.

It finds those products by their key in the register task's ``upstream`` (Ploomber's
dict of task -> product paths): ``model``, ``metrics``, ``schema``, ``reference`` and each
task's executed notebook ``nb``. A project that names them otherwise passes the paths.
"""

from __future__ import annotations

import json
import logging
import tempfile
import zipfile
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..data.cleaning import Cleaning, cleaning_reference
from ..errors import ConfigError
from ..registry.compare import CURVES_FILE
from ..registry.lifecycle import GatePolicy, register_and_gate
from ..registry.lineage import (
    executed_notebooks,
    find_project_root,
    git_info,
    package_versions,
    relative_to,
    sha256_file,
)

log = logging.getLogger(__name__)

#: Libraries whose versions the lineage records.
RECORDED_PACKAGES = ("scikit-learn", "pandas", "numpy", "bentoml", "ploomber", "nbprod")


@dataclass(frozen=True)
class Registration:
    """What the register step did: the new version and the gate's decision."""

    tag: str
    promoted: bool
    reason: str
    metrics: dict[str, Any]
    #: the gate's full decision, every check on its line (the build's console shows it)
    decision: str = ""
    #: which form will answer for it: the compiled graph and its parity, or why not
    served_from: str = ""

    def summary(self) -> str:
        verdict = "promoted to production" if self.promoted else "NOT promoted"
        served = f"\nserved from: {self.served_from}" if self.served_from else ""
        return f"registered {self.tag}: {verdict} ({self.reason}){served}\n{self.decision}".rstrip()

    def save(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(asdict(self), indent=2) + "\n")


def product(upstream: Mapping[str, Any], key: str) -> str:
    """The path of the one upstream product called ``key`` (e.g. ``model``)."""
    found = {task: p[key] for task, p in upstream.items() if isinstance(p, Mapping) and key in p}
    if len(found) != 1:
        where = f"in tasks {sorted(found)}" if found else "in no upstream task"
        raise ConfigError(
            f"register: expected exactly one upstream product named {key!r}, found it {where}; "
            f"pass its path as {key}=..."
        )
    return str(next(iter(found.values())))


def _optional_product(upstream: Mapping[str, Any], key: str) -> str | None:
    try:
        return product(upstream, key)
    except ConfigError:
        return None


def lineage(
    upstream: Mapping[str, Any],
    data: Mapping[str, str | Path],
    root: str | Path,
    metrics: dict[str, Any],
    gate: dict[str, Any],
    schema: str | Path,
    reference: str | Path,
) -> dict[str, Any]:
    """The metadata stored with the model (JSON-like)."""
    notebooks = executed_notebooks(
        {task: p["nb"] for task, p in upstream.items() if isinstance(p, Mapping) and "nb" in p},
        root=root,
    )
    return {
        "metrics": metrics,
        "parameters": {task: info["parameters"] for task, info in notebooks.items()},
        "git": git_info(root),
        "data": {
            name: {"path": relative_to(path, root), "sha256": sha256_file(path)}
            for name, path in data.items()
        },
        "notebooks": {t: {"path": i["path"], "sha256": i["sha256"]} for t, i in notebooks.items()},
        "feature_schema": json.loads(Path(schema).read_text()),
        "reference_statistics": json.loads(Path(reference).read_text()),
        "versions": package_versions(list(RECORDED_PACKAGES)),
        "gate": gate,
        "run": {"finished_at": datetime.now(UTC).isoformat(timespec="seconds")},
    }


def register_run(
    model_name: str,
    upstream: Mapping[str, Any],
    gate: dict[str, Any],
    data: Mapping[str, str | Path] | None = None,
    registration: str | Path | None = None,
    root: str | Path | None = None,
    clean: Cleaning | None = None,
    **paths: str | Path,
) -> Registration:
    """Register the model the pipeline trained, with its lineage, and apply the gate.

    ``data`` names the raw data files (name -> path) whose sha256 the lineage keeps;
    ``registration`` is where the outcome is written (the task's product); ``root`` the
    project folder recorded paths are relative to (found from ``pipeline.yaml``);
    ``paths`` overrides where ``model``, ``metrics``, ``schema``, ``reference`` or the
    held-out ``predictions`` (optional: their histogram is the reference of the served
    probabilities' drift, and their evaluation curves, aggregated so that no row is kept
    (:func:`nbprod.model.curves.curve_summary`), are stored with the model for the
    comparison page; the predictions themselves never are) and the held-out ``test`` rows (optional: the single-record trial
    of :mod:`nbprod.serving.trial` sends some of them one by one through the service's path;
    a candidate that fails it is not promoted; with the predictions, their fingerprint is
    the lineage's ``test_set`` and production is re-scored on them before the gate,
    :mod:`nbprod.registry.rescoring`) are. ``clean`` is the project's cleaning step
    (her ``clean(df)``, which the ingest step ran before validation): the model keeps its
    name (``cleaning`` in the metadata) and the service runs it on every request, as the
    trial does.
    """
    from ..model.artifacts import held_types, load_model_file
    from ..model.compiling import summary
    from ..model.description import describe
    from ..model.onnx_model import OnnxModel

    unknown = sorted(set(paths) - {"model", "metrics", "schema", "reference", "predictions",
                                   "test"})
    if unknown:
        raise ConfigError(f"register_run: unknown path(s) {unknown}")
    where = {k: paths.get(k) or product(upstream, k)
             for k in ("model", "metrics", "schema", "reference")}
    predictions = paths.get("predictions") or _optional_product(upstream, "predictions")
    root = Path(root) if root is not None else find_project_root()
    policy = GatePolicy.from_dict(gate)
    metrics = json.loads(Path(where["metrics"]).read_text())
    metadata = lineage(upstream, data or {}, root, metrics, gate, where["schema"], where["reference"])
    if predictions is not None:  # the served predictions' drift is judged against these
        from ..data.drift import prediction_reference

        metadata["prediction_reference"] = prediction_reference(predictions)
    if clean is not None:  # the service imports it again by this name
        metadata["cleaning"] = cleaning_reference(clean)
    model = load_model_file(where["model"])
    stored = Path(where["model"])
    metadata["model"] = describe(
        model, held_types(stored.read_bytes()) if zipfile.is_zipfile(stored) else ())
    metadata["versions"] = {**metadata["versions"], **metadata["model"]["libraries"]}
    estimator = metadata["model"]["estimator"].rpartition(".")[2]
    test = paths.get("test") or _optional_product(upstream, "test")
    compiled = _compile(model, where["schema"], metrics, test)
    if compiled is not None:
        metadata["compiled"] = compiled.record
    graph = OnnxModel(compiled.graph) if compiled is not None and compiled.usable else None
    trial, metadata["trial"] = _trial(model, where["schema"], metrics, test, clean, graph)
    held = _held_out(test, predictions, where["schema"])
    if held is not None:  # which rows the metrics are on: the gate compares like with like
        metadata["test_set"] = held.fingerprint
    archived = {f"reports/{Path(p['nb']).name}": p["nb"]
                for p in upstream.values() if isinstance(p, Mapping) and "nb" in p}
    with tempfile.TemporaryDirectory(prefix="nbprod-curves-") as scratch:
        if predictions is not None:  # aggregates only: no row leaves for the store
            archived[CURVES_FILE] = _curves_file(predictions, where["schema"], Path(scratch))
        tag, decision = register_and_gate(
            model_name, model, metadata, policy, labels={"estimator": estimator},
            files=archived, trial=trial, compiled=compiled, held_out=held,
        )
    result = Registration(tag, decision.promote, decision.reason, metrics, decision.describe(),
                          summary(compiled.record) if compiled is not None else "")
    if registration is not None:
        result.save(registration)
    log.info("%s", result.summary())
    return result


def _curves_file(predictions: str | Path, schema: str | Path, folder: Path) -> Path:
    """The held-out predictions' evaluation curves, as aggregates, in a JSON file in
    ``folder`` (the model keeps it as :data:`~nbprod.registry.compare.CURVES_FILE`)."""
    import pandas as pd

    from ..data.schema import FeatureSchema
    from ..model.curves import curve_summary

    features = FeatureSchema.load(schema)
    summary = curve_summary(pd.read_parquet(predictions), features.model_kind, features.target,
                            features.classes)
    out = folder / Path(CURVES_FILE).name
    out.write_text(json.dumps(summary, separators=(",", ":")) + "\n", encoding="utf-8")
    return out


def _held_out(test: str | Path | None, predictions: str | Path | None,
              schema: str | Path) -> Any:
    """The held-out rows, their labels (from the evaluate step's predictions, row for row)
    and their fingerprint, for the gate (:class:`nbprod.registry.rescoring.HeldOut`); None
    without both products, or when they do not hold the same rows."""
    import numpy as np
    import pandas as pd

    from ..data.model_kinds import MULTICLASS
    from ..data.schema import FeatureSchema
    from ..data.test_set import fingerprint
    from ..registry.rescoring import HeldOut

    if test is None or predictions is None:
        return None
    rows, predicted = pd.read_parquet(test), pd.read_parquet(predictions)
    features = FeatureSchema.load(schema)
    if features.target not in predicted or list(predicted["row"]) != list(rows.index):
        log.warning("the held-out predictions are not the test rows: production is not "
                    "re-scored on them")
        return None
    labels = predicted[features.target].to_numpy()
    if features.model_kind == MULTICLASS:  # the class name -> its index, as learned
        labels = np.asarray([features.classes.index(str(c)) for c in labels])
    return HeldOut(rows, labels, fingerprint(rows))


def _trial(model: Any, schema: str | Path, metrics: dict[str, Any],
           test: str | Path | None, clean: Cleaning | None = None, compiled: Any = None
           ) -> tuple[str | None, dict[str, Any]]:
    """The single-record trial on the held-out rows: (why it failed or None, its record)."""
    import pandas as pd

    from ..data.schema import FeatureSchema
    from ..serving.trial import ROWS, single_record_trial

    if test is None:
        log.warning("no held-out `test` product upstream: the single-record trial did not run")
        return None, {"ran": False}
    frame = pd.read_parquet(test)
    failed = single_record_trial(model, FeatureSchema.load(schema), frame,
                                 float(metrics.get("threshold", 0.5)), clean=clean,
                                 compiled=compiled)
    record = {"ran": True, "rows": min(ROWS, len(frame)), "passed": failed is None}
    return failed, {**record, "reason": failed} if failed else record


def _compile(model: Any, schema: str | Path, metrics: dict[str, Any],
             test: str | Path | None) -> Any:
    """The model's compiled form, its parity checked on every held-out row
    (:mod:`nbprod.model.compiling`); None without held-out rows."""
    import pandas as pd

    from ..data.frames import model_frame
    from ..data.schema import FeatureSchema
    from ..model.compiling import compile_model, summary

    if test is None:
        log.warning("no held-out `test` product upstream: the model is not compiled")
        return None
    features = FeatureSchema.load(schema)
    frame = model_frame(pd.read_parquet(test), features.features)
    compiled = compile_model(model, features, frame, float(metrics.get("threshold", 0.5)))
    log.info("compiled: %s", summary(compiled.record))
    return compiled

