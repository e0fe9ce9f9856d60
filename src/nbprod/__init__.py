"""nbprod: take Jupyter notebooks to production with Ploomber and BentoML.

The public API is loaded lazily (PEP 562): ``import nbprod`` or ``import nbprod.errors``
costs almost nothing, and ``nbprod.register_model`` imports :mod:`nbprod.registry.store` (and
so pandas and BentoML) only when it is first used. ``nbprod --help`` relies on that.

A project's notebooks import what they use from here (``from nbprod import ColumnTable,
read_table, validate``), not from the stages' modules, whose paths may move
(ARCHITECTURE.md: one folder per stage of the flow).
"""

import importlib
from typing import Any

__version__ = "0.1.0"

#: Public name -> the submodule defining it. A plain table, so adding a name is one line.
_API: dict[str, str] = {
    "BatchInputError": "errors",
    "ConfigError": "errors",
    "ContractError": "errors",
    "DataFileError": "errors",
    "DataValidationError": "errors",
    "FeedbackError": "errors",
    "ModelStoreError": "errors",
    "NbprodError": "errors",
    "PredictionError": "errors",
    "ParityError": "errors",
    "StorageError": "errors",
    "TargetError": "errors",
    "ColumnTable": "data.columns",
    "read_table": "data.files",
    "validate": "data.validation",
    "compact": "data.validation",
    "features": "data.dataset",
    "target": "data.dataset",
    "split": "data.dataset",
    "stratified_sample": "data.dataset",
    "summary": "data.dataset",
    "save_model": "model.artifacts",
    "load_model_file": "model.artifacts",
    "evaluate": "model.evaluation",
    "feature_importance": "model.evaluation",
    "training_score": "model.evaluation",
    "score_file": "serving.batch",
    "score_summary": "serving.batch",
    "build_model": "model.modeling",
    "Registration": "pipeline.registration",
    "register_run": "pipeline.registration",
    "executed_notebooks": "registry.lineage",
    "git_info": "registry.lineage",
    "package_versions": "registry.lineage",
    "sha256_file": "registry.lineage",
    "feature_schema": "registry.store",
    "get_model": "registry.store",
    "load_model": "registry.store",
    "register_model": "registry.store",
    "Feature": "data.schema",
    "FeatureSchema": "data.schema",
    "derive_feature_schema": "data.schema",
    "reference_statistics": "data.schema",
}

__all__ = sorted(_API)


def __getattr__(name: str) -> Any:
    """Import the submodule defining ``name`` on first use, then keep the value here."""
    module = _API.get(name)
    if module is None:
        raise AttributeError(f"module 'nbprod' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """The public API and the version (not this module's helpers)."""
    return [*__all__, "__version__"]
