"""The reference project's domain code: Telco customer churn."""

from .schema import COLUMNS, FEATURES, TARGET

__all__ = ["COLUMNS", "FEATURES", "TARGET"]
