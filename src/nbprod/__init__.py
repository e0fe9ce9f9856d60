"""nbprod: take Jupyter notebooks to production with Ploomber and BentoML.

The public API is loaded lazily (PEP 562): ``import nbprod`` or ``import nbprod.errors``
costs almost nothing, and ``nbprod.register_model`` imports :mod:`nbprod.registry` (and
so pandas and BentoML) only when it is first used. ``nbprod --help`` relies on that.
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
    "TargetError": "errors",
    "ColumnTable": "columns",
    "read_table": "data",
    "validate": "validation",
    "build_model": "modeling",
    "Registration": "registration",
    "register_run": "registration",
    "executed_notebooks": "lineage",
    "git_info": "lineage",
    "package_versions": "lineage",
    "sha256_file": "lineage",
    "feature_schema": "registry",
    "get_model": "registry",
    "load_model": "registry",
    "register_model": "registry",
    "Feature": "schema",
    "FeatureSchema": "schema",
    "derive_feature_schema": "schema",
    "reference_statistics": "schema",
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
