"""The one exception root of nbprod.

Every error the toolkit raises on purpose derives from :class:`NbprodError`, so a
caller (the CLI, a notebook, a service) can catch the toolkit's own failures
without swallowing programming errors::

    NbprodError
    ├── ConfigError          a parameter or configuration value is wrong
    ├── DataValidationError  a data file breaks its declared schema
    │   └── BatchInputError  a file to score does not fit the model's feature schema
    ├── TargetError          the target cannot be learned from (blank, one value, not numbers)
    ├── DataFileError        a data file is missing, empty or unreadable
    ├── ModelStoreError      the model store or a stored model is unusable
    ├── ContractError        notebooks break the notebook contract (`nbprod check`)
    ├── PredictionError      the model failed on input that passed validation
    ├── ParityError          a served notebook model does not answer as her notebook did
    ├── FeedbackError        true labels sent to a service name unknown ids or bad values
    └── StorageError         a file the service keeps cannot be written now (a full disk)

Each error says what was wrong, where, and what to do about it.
"""

from __future__ import annotations

from pathlib import Path

__all__ = [
    "BatchInputError",
    "ConfigError",
    "ContractError",
    "DataFileError",
    "DataValidationError",
    "FeedbackError",
    "ModelStoreError",
    "NbprodError",
    "ParityError",
    "PredictionError",
    "StorageError",
    "TargetError",
]


class NbprodError(Exception):
    """Root of every error nbprod raises on purpose."""


class ConfigError(NbprodError, ValueError):
    """A parameter or configuration value is wrong (names the key and the allowed values)."""


class DataFileError(NbprodError):
    """A data file is missing, empty, or cannot be parsed."""

    def __init__(self, path: str | Path, problem: str) -> None:
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")

    def __reduce__(self):  # rebuilt from its fields when it crosses processes (Dask)
        return type(self), (self.path, self.problem)


class DataValidationError(NbprodError):
    """A data frame breaks its declared schema.

    ``failures`` holds one dict per broken rule: ``column``, ``rule``, ``count`` and
    a few offending ``rows`` (index -> value), so a person can find them in the file.
    """

    verb = "breaks "
    advice = "Fix the data file or the declared schema, then rebuild."

    def __init__(self, source: str, failures: list[dict]) -> None:
        self.source = source
        self.failures = failures
        lines = [f"{source}: {len(failures)} schema rule(s) broken (rows count from 0, after the header)"]
        for f in failures:
            shown = list(f["rows"].items())[:5]
            if all(v is None for _, v in shown):  # a rule across columns: the rows alone
                rows = ", ".join(f"row {i}" for i, _ in shown)
            else:
                rows = ", ".join(f"row {i}: {v!r}" for i, v in shown)
            where = f" in {f['count']} row(s): {rows}" if rows else ""
            what = "the table" if f["column"] == "<table>" else f"column {f['column']!r}"
            lines.append(f"  {what} {self.verb}{f['rule']}{where}")
        lines.append(self.advice)
        super().__init__("\n".join(lines))

    def __reduce__(self):  # rebuilt from its fields when it crosses processes (Dask)
        return type(self), (self.source, self.failures)


class TargetError(NbprodError, ValueError):
    """The target column cannot be learned from: blank on every row, one value only, or
    (for a regression) values that are not numbers; the message names the rows."""


class BatchInputError(DataValidationError):
    """A file to score does not fit the model's feature schema (``failures`` as above)."""

    verb = ""
    advice = "Fix these rows (or the columns' names) in the input file, then score it again."


class ModelStoreError(NbprodError):
    """The BentoML model store, or a model in it, cannot be used as asked."""


class ContractError(NbprodError):
    """Notebooks break the notebook contract; ``findings`` lists each broken rule.

    The message has one ``path:cell:line RULE message`` line per error, so the
    notebook, the cell and the parameter are named where the build stops.
    """

    def __init__(self, findings: list) -> None:
        self.findings = list(findings)
        lines = [f"{len(self.findings)} notebook contract error(s), no notebook was executed:"]
        lines += [f.format() for f in self.findings]
        lines.append("Fix them and build again (`nbprod check` lists them without building).")
        super().__init__("\n".join(lines))


class PredictionError(NbprodError, ValueError):
    """The model raised on input that passed the schema's validation.

    The service answers it with a 4xx naming the problem, never a 500.
    """


class FeedbackError(NbprodError, ValueError):
    """True labels sent to a service (``POST /feedback``) cannot be used: the message names
    the unknown or already-labelled request ids and the bad values. Answered with a 400."""


class StorageError(NbprodError):
    """A file the service keeps (the feedback ledger) cannot be written now: a full disk, a
    file-size limit, a read-only or vanished folder. Nothing was recorded, so the request can
    be sent again later: the service answers 503 with ``Retry-After``."""


class ParityError(NbprodError):
    """The served code path (raw records -> her feature function -> her model) does not answer
    her held-out rows as her notebook's model did; names the first row and column."""
