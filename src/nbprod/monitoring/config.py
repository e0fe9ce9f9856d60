"""The settings of the in-service monitor, read from ``NBPROD_*`` environment variables."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from ..settings import positive
from .prediction_log import check_log_dir, default_log_dir


@dataclass(frozen=True)
class MonitorConfig:
    """What the monitor keeps and where it writes (see :meth:`from_env` for the variables)."""

    enabled: bool = True
    #: None: no prediction log; the default is :func:`nbprod.monitoring.prediction_log.default_log_dir`
    log_dir: Path | None = field(default_factory=default_log_dir)
    log_max_bytes: int = 50_000_000
    log_backups: int = 10
    window: int = 1000
    update_every: int = 100
    memory: int = 100_000
    feedback_window: int = 1000
    threshold: float = 0.2
    min_rows: int = 50

    ENV = {
        "enabled": "NBPROD_MONITORING",
        "log_dir": "NBPROD_PREDICTION_LOG_DIR",
        "log_max_bytes": "NBPROD_PREDICTION_LOG_MAX_BYTES",
        "log_backups": "NBPROD_PREDICTION_LOG_BACKUPS",
        "window": "NBPROD_DRIFT_WINDOW",
        "update_every": "NBPROD_DRIFT_UPDATE_EVERY",
        "memory": "NBPROD_FEEDBACK_MEMORY",
        "feedback_window": "NBPROD_FEEDBACK_WINDOW",
        "threshold": "NBPROD_DRIFT_THRESHOLD",
        "min_rows": "NBPROD_DRIFT_MIN_ROWS",
    }

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> MonitorConfig:
        """Settings from ``NBPROD_*`` variables; unset ones keep their defaults.

        ``NBPROD_MONITORING=0`` switches the monitor off; ``NBPROD_PREDICTION_LOG_DIR=""``
        keeps monitoring but writes no log. The log folder is checked
        (:func:`nbprod.monitoring.prediction_log.check_log_dir`: absolute, outside the BentoML home and
        any bento), so a bad one stops the server with one line before it serves.
        """
        environ = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for name, var in cls.ENV.items():
            if var not in environ:
                continue
            raw = environ[var].strip()
            if name == "enabled":
                if raw.lower() not in ("0", "1", "false", "true", "off", "on"):
                    raise ConfigError(f"${var}={raw!r}: use 1/true/on or 0/false/off")
                values[name] = raw.lower() in ("1", "true", "on")
            elif name == "log_dir":
                values[name] = Path(raw) if raw else None
            else:
                values[name] = positive(var, raw, type(getattr(cls, name)))
        config = cls(**values)
        if config.enabled and config.log_dir is not None:
            store = environ.get("BENTOML_HOME", "").strip()
            check_log_dir(config.log_dir, Path(store).expanduser() if store else None)
        return config
