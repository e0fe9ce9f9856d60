"""The declared column table of a project: ``columns.yaml``, the contract of its data.

One file declares every column the model uses once (its kind, the allowed categories or
range, whether it may be blank, its header in the raw file), the target and its positive
class, the name of one record in the API, and the raw columns left out with the reason.
Validation of the raw data (:mod:`nbprod.data.validation`), the model's preprocessing
(:mod:`nbprod.model.modeling`), the feature schema stored with the model and so the served API
(:mod:`nbprod.data.schema`) are all derived from it, so they cannot disagree::

    target: status            # the column the model predicts
    positive: bad             # the served probability is P(status == bad)
    record: Loan              # the name of one input record in the API
    columns:
      age: {source: Age, kind: integer, min: 18, max: 99}
      home: {kind: categorical, categories: [own, rent], nullable: true}
      total: {kind: number, min: 0, nullable: true, missing: [" "]}   # " " in the file is a blank
      status: {kind: categorical, categories: [bad, good]}
    dropped:
      Customer ID: id-like (a different value on every row)
    split: {column: fold}     # optional: her split (nbprod.data.splits); else at random
                              # also {group: customer_id, test_size: 0.2}, {function: pkg.mod:f}

``kind`` says what the model predicts (:mod:`nbprod.data.model_kinds`): ``binary`` (the default;
a categorical target with two categories and its ``positive`` class), ``multiclass`` (a
categorical target with three or more categories, the classes in their declared order) or
``regression`` (an integer or number target)::

    kind: regression
    target: price
    columns:
      price: {kind: number, min: 0}
"""

from __future__ import annotations

import keyword
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from .dates import as_datetimes, check_format, date_bound
from .model_kinds import BINARY, MULTICLASS, REGRESSION, check_model_kind
from .splits import Split

#: binary: 0/1 flags; categorical: one of the declared categories (strings or integers);
#: integer and number: within [min, max] when those are given; datetime: ISO dates or
#: timestamps, or text in its declared ``format`` (:mod:`nbprod.data.dates`); text: free
#: text of at most ``max_length`` characters (a review, a ticket), which the default model
#: vectorises.
KINDS = ("binary", "categorical", "integer", "number", "datetime", "text")
_COLUMN_KEYS = {"kind", "categories", "min", "max", "nullable", "missing", "unit", "source",
                "description", "max_length", "format"}
_TABLE_KEYS = {"kind", "target", "positive", "record", "columns", "dropped", "split"}


@dataclass(frozen=True)
class Column:
    """One declared column: what a valid value is."""

    name: str
    kind: str
    categories: tuple[Any, ...] | None = None
    #: integer and number: a number; datetime: ISO text (:mod:`nbprod.data.dates`)
    min: float | str | None = None
    max: float | str | None = None
    nullable: bool = False
    unit: str | None = None
    source: str | None = None
    description: str | None = None
    #: strings that stand for a blank in this column of the raw file (``" "``, ``"?"``):
    #: read as missing by validation, batch scoring and the service, the file left as it is
    missing: tuple[str, ...] | None = None
    #: the longest value of a ``text`` column, in characters (None: no bound)
    max_length: int | None = None
    #: how a ``datetime`` column's text is written, a strftime format (None: ISO)
    format: str | None = None

    @property
    def header(self) -> str:
        """The column's header in the raw file."""
        return self.source or self.name

    @property
    def is_numeric(self) -> bool:
        return self.kind in ("integer", "number")

    def spec(self) -> dict[str, Any]:
        """The declaration as a plain dict (what :func:`nbprod.data.schema.derive_feature_schema` reads)."""
        out: dict[str, Any] = {"kind": self.kind}
        if self.categories is not None:
            out["categories"] = list(self.categories)
        for key in ("min", "max", "unit", "source", "description", "max_length", "format"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        if self.nullable:
            out["nullable"] = True
        if self.missing:
            out["missing"] = list(self.missing)
        return out


@dataclass(frozen=True)
class ColumnTable:
    """The declared columns (target included, in order), the target, the model kind and (for
    a binary model) the positive class."""

    columns: tuple[Column, ...]
    target: str
    positive: Any = None
    record: str = "Record"
    dropped: dict[str, str] = field(default_factory=dict)
    source: str = "columns.yaml"
    #: what the model predicts: binary, multiclass or regression
    kind: str = BINARY
    #: her declared split (:mod:`nbprod.data.splits`); None: at random
    split: Split | None = None

    def __post_init__(self) -> None:
        where = self.source
        names = [c.name for c in self.columns]
        if len(set(names)) != len(names):
            dup = sorted({n for n in names if names.count(n) > 1})
            raise ConfigError(f"{where}: column(s) {dup} declared twice")
        headers = [c.header for c in self.columns]
        if len(set(headers)) != len(headers):
            dup = sorted({h for h in headers if headers.count(h) > 1})
            raise ConfigError(f"{where}: raw header(s) {dup} are the source of two columns")
        if self.target not in names:
            raise ConfigError(f"{where}: target {self.target!r} is not among the columns {names}")
        check_model_kind(self.kind, f"{where}: kind")
        _check_target(self.column(self.target), self.kind, self.positive, where)
        if len(self.columns) < 2:
            raise ConfigError(f"{where}: declare at least one feature besides the target")
        if not self.record.isidentifier() or keyword.iskeyword(self.record):
            raise ConfigError(f"{where}: record {self.record!r} must be a Python identifier")
        clash = sorted(set(self.dropped) & set(headers))
        if clash:
            raise ConfigError(f"{where}: {clash} are both declared and dropped")
        if self.split is not None:
            _check_split(self, self.split)

    # -- lookups ---------------------------------------------------------------------------

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def features(self) -> list[str]:
        """The model's input columns, in the declared order."""
        return [c.name for c in self.columns if c.name != self.target]

    @property
    def negative(self) -> Any:
        if self.kind != BINARY:
            raise ConfigError(f"{self.source}: a {self.kind} target has no negative class")
        cats = self.column(self.target).categories or ()
        return next(c for c in cats if c != self.positive)

    @property
    def categories(self) -> list[Any]:
        """The target's classes as declared: ``[negative, positive]`` for a binary model,
        the declared order for a multiclass one, none for a regression."""
        if self.kind == BINARY:
            return [self.negative, self.positive]
        if self.kind == MULTICLASS:
            return list(self.column(self.target).categories or ())
        return []

    @property
    def classes(self) -> list[str]:
        """:attr:`categories` as strings: the labels the service answers with."""
        return [str(c) for c in self.categories]

    @property
    def renames(self) -> dict[str, str]:
        """Raw header -> column name, for the columns whose header differs."""
        return {c.source: c.name for c in self.columns if c.source and c.source != c.name}

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise ConfigError(f"{self.source}: no column {name!r}; declared: {self.names}")

    def declared(self) -> dict[str, dict[str, Any]]:
        """Every column as name -> plain declaration (target included)."""
        return {c.name: c.spec() for c in self.columns}

    def feature_columns(self) -> list[Column]:
        return [c for c in self.columns if c.name != self.target]

    # -- files -----------------------------------------------------------------------------

    @classmethod
    def load(cls, path: str | Path) -> ColumnTable:
        """Read and check a ``columns.yaml``; errors name the file and the key."""
        import yaml

        path = Path(path)
        try:
            data = yaml.safe_load(path.read_text())
        except FileNotFoundError:
            raise ConfigError(f"{path}: no such file (the declared column table)") from None
        except yaml.YAMLError as exc:
            raise ConfigError(f"{path}: not valid YAML: {exc}") from None
        return cls.from_dict(data, source=str(path))

    @classmethod
    def from_dict(cls, data: Any, source: str = "columns.yaml") -> ColumnTable:
        if not isinstance(data, dict):
            raise ConfigError(f"{source}: expected a mapping with keys {sorted(_TABLE_KEYS)}")
        unknown = sorted(set(data) - _TABLE_KEYS)
        if unknown:
            raise ConfigError(f"{source}: unknown key(s) {unknown}; valid: {sorted(_TABLE_KEYS)}")
        kind = data.get("kind", BINARY)
        check_model_kind(kind, f"{source}: kind")
        for key in ("target", "positive", "columns") if kind == BINARY else ("target", "columns"):
            if key not in data:
                raise ConfigError(f"{source}: missing key {key!r}")
        if kind != BINARY and "positive" in data:
            raise ConfigError(f"{source}: positive: only a binary target has a positive class "
                              f"(kind is {kind})")
        raw_columns = data["columns"]
        if not isinstance(raw_columns, dict) or not raw_columns:
            raise ConfigError(f"{source}: columns must be a mapping of column name -> declaration")
        columns = tuple(_column(str(name), spec, source) for name, spec in raw_columns.items())
        dropped = data.get("dropped") or {}
        if not isinstance(dropped, dict):
            raise ConfigError(f"{source}: dropped must be a mapping of raw header -> reason")
        return cls(
            columns=columns,
            target=str(data["target"]),
            positive=data.get("positive"),
            record=str(data.get("record") or "Record"),
            dropped={str(k): str(v) for k, v in dropped.items()},
            source=source,
            kind=kind,
            split=Split.from_dict(data["split"], source) if data.get("split") is not None else None,
        )

    def to_dict(self) -> dict[str, Any]:
        head: dict[str, Any] = {"target": self.target}
        if self.kind == BINARY:
            head["positive"] = self.positive
        else:
            head = {"kind": self.kind, **head}
        tail = {"split": self.split.to_dict()} if self.split is not None else {}
        return {**head, "record": self.record, "columns": self.declared(),
                "dropped": dict(self.dropped), **tail}

    @property
    def split_only(self) -> str | None:
        """The raw column kept for the declared split alone (not declared: not a feature)."""
        if self.split is None or self.split.needs is None or self.split.needs in self.names:
            return None
        return self.split.needs


def _check_split(table: ColumnTable, split: Split) -> None:
    """A split column that is not the target, not dropped, and a feature only when it is a
    date or a group (a train/test marker would tell the model the answer's place)."""
    name = split.needs
    if name is None:  # her function reads the validated frame
        return
    where = f"{table.source}: split.{'group' if split.group else 'column'} {name!r}"
    if name == table.target:
        raise ConfigError(f"{where} is the target; name the column that places each row")
    if name in table.dropped:
        raise ConfigError(f"{where} is also under dropped; keep it out of dropped")
    if name in [c.source for c in table.columns if c.source]:
        raise ConfigError(f"{where} is the raw header of a declared column; use its name")
    if split.column is not None and split.test_from is None and name in table.names:
        raise ConfigError(f"{where} holds train or test: it is not a feature, so leave it "
                          "out of columns (it is kept for the split alone)")


def _check_target(target: Column, kind: str, positive: Any, where: str) -> None:
    """The target fits the model kind: errors name the file and the key."""
    key = f"{where}: columns.{target.name}"
    cats = list(target.categories or [])
    if target.nullable:
        raise ConfigError(f"{key}: the target cannot be nullable")
    if kind == BINARY:
        if target.kind != "categorical" or len(cats) != 2:
            raise ConfigError(
                f"{key}: the target must be categorical with exactly two categories "
                f"(a binary classifier), got kind {target.kind!r} and categories {cats}; "
                "set `kind: multiclass` or `kind: regression` for another kind of model"
            )
        if positive not in cats:
            raise ConfigError(
                f"{where}: positive {positive!r} is not a category of the target "
                f"{target.name!r}: {cats}"
            )
    elif kind == MULTICLASS:
        if target.kind != "categorical" or len(cats) < 3:
            raise ConfigError(
                f"{key}: a multiclass target must be categorical with three or more "
                f"categories, got kind {target.kind!r} and categories {cats}"
                + ("; two categories make a binary model" if len(cats) == 2 else "")
            )
    elif kind == REGRESSION and not target.is_numeric:
        raise ConfigError(
            f"{key}: a regression target must be of kind integer or number, got {target.kind!r}"
        )


def _column(name: str, spec: Any, source: str) -> Column:
    where = f"{source}: columns.{name}"
    if not name.isidentifier() or keyword.iskeyword(name):
        raise ConfigError(f"{where}: a column name must be an identifier (letters, digits, _); "
                          "keep the raw header under `source:`")
    if not isinstance(spec, dict):
        raise ConfigError(f"{where}: expected a mapping with at least `kind`")
    unknown = sorted(set(spec) - _COLUMN_KEYS)
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {unknown}; valid: {sorted(_COLUMN_KEYS)}")
    kind = spec.get("kind")
    if kind not in KINDS:
        raise ConfigError(f"{where}.kind: {kind!r} is not one of {', '.join(KINDS)}")
    categories = spec.get("categories")
    if kind == "categorical":
        if not isinstance(categories, list) or not categories:
            raise ConfigError(f"{where}.categories: a categorical column needs a non-empty list")
        if len(set(map(repr, categories))) != len(categories):
            raise ConfigError(f"{where}.categories: {categories} repeats a category")
        if not all(isinstance(c, str) for c in categories) and not all(
            isinstance(c, int) and not isinstance(c, bool) for c in categories
        ):
            raise ConfigError(f"{where}.categories: all strings or all integers, got {categories}")
        categories = tuple(categories)
    elif categories is not None:
        raise ConfigError(f"{where}.categories: only categorical columns have categories")
    low, high = _range(spec, kind, where)
    longest = spec.get("max_length")
    if longest is not None and (kind != "text" or isinstance(longest, bool)
                                or not isinstance(longest, int) or longest < 1):
        raise ConfigError(f"{where}.max_length: a whole number of characters >= 1, on a text "
                          f"column only; got {longest!r} on a {kind} column")
    nullable = spec.get("nullable", False)
    if not isinstance(nullable, bool):
        raise ConfigError(f"{where}.nullable: true or false, got {nullable!r}")
    return Column(
        name=name, kind=kind, categories=categories, min=low, max=high, nullable=nullable,
        unit=_text(spec.get("unit")), source=_text(spec.get("source")),
        description=_text(spec.get("description")),
        missing=_missing(spec.get("missing"), nullable, categories, f"{where}.missing"),
        max_length=longest, format=check_format(spec.get("format"), kind, f"{where}.format"),
    )


def _missing(value: Any, nullable: bool, categories: Any, where: str) -> tuple[str, ...] | None:
    """The strings declared to mean a blank: a list of strings, on a nullable column,
    none of them a category."""
    if value is None:
        return None
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where}: a non-empty list of strings, got {value!r}")
    if not nullable:
        raise ConfigError(f"{where}: strings read as blank need `nullable: true`")
    clash = [v for v in value if v in (categories or ())]
    if clash:
        raise ConfigError(f"{where}: {clash} are also categories")
    return tuple(value)


def _range(spec: dict[str, Any], kind: str, where: str) -> tuple[Any, Any]:
    """``min`` and ``max``: numbers on an integer or number column, ISO dates or
    timestamps on a datetime column, ``min`` not above ``max``."""
    low: float | str | None
    high: float | str | None
    if kind == "datetime":
        low, high = (date_bound(spec.get(k), f"{where}.{k}") for k in ("min", "max"))
        stamps = as_datetimes([low, high])
        above = bool(stamps.iloc[0] > stamps.iloc[1])  # False when either end is open
    else:
        low, high = _bound(spec.get("min"), f"{where}.min"), _bound(spec.get("max"), f"{where}.max")
        if (low is not None or high is not None) and kind not in ("integer", "number"):
            raise ConfigError(f"{where}: min/max apply to integer, number and datetime columns only")
        above = low is not None and high is not None and low > high
    if above:
        raise ConfigError(f"{where}: min {low} is above max {high}")
    return low, high


def _bound(value: Any, where: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ConfigError(f"{where}: a finite number, got {value!r}")
    return value


def _text(value: Any) -> str | None:
    return None if value is None else str(value)
