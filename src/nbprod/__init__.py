"""nbprod: take Jupyter notebooks to production with Ploomber and BentoML."""

from .errors import (
    BatchInputError,
    ConfigError,
    ContractError,
    DataFileError,
    DataValidationError,
    FeedbackError,
    ModelStoreError,
    NbprodError,
    PredictionError,
)
from .lineage import executed_notebooks, git_info, package_versions, sha256_file
from .registry import feature_schema, get_model, load_model, register_model
from .schema import Feature, FeatureSchema, derive_feature_schema, reference_statistics

__version__ = "0.1.0"

__all__ = [
    "BatchInputError",
    "ConfigError",
    "ContractError",
    "DataFileError",
    "DataValidationError",
    "Feature",
    "FeatureSchema",
    "FeedbackError",
    "ModelStoreError",
    "NbprodError",
    "PredictionError",
    "derive_feature_schema",
    "executed_notebooks",
    "feature_schema",
    "get_model",
    "git_info",
    "load_model",
    "package_versions",
    "reference_statistics",
    "register_model",
    "sha256_file",
]
