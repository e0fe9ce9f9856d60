"""Which types a model file may hold: reviewed lists per library, the project's own code, and
the project's trust file. Never the model file or the store, which an attacker can write.

skops rebuilds only the types it is told to trust. Its defaults cover scikit-learn's
estimators, numpy, scipy and Python's builtins; what a fitted model holds beyond them is
decided here, by three sources, all in code or in the project's committed files:

- :data:`LIBRARIES`: for scikit-learn, XGBoost, LightGBM and CatBoost, the types their
  fitted models hold that skops does not trust by default, reviewed one by one (each list is
  tested against a fitted model of that library). scikit-learn's list is always on; a
  project turns another library's on in its trust file (``libraries:``), so a file swapped
  for a valid model of a library the project does not use is still refused;
- the project's own packages (``packages:``): every class and function of hers is trusted,
  as the service imports and runs her code anyway;
- any other type, after review, under ``types:``.

The trust file is ``trust.yaml`` at the project's root, beside ``pipeline.yaml`` and
``bentofile.yaml`` (which includes it in the bento): the pipeline, the tests, ``bentoml
serve`` and ``nbprod score`` all read the same file, found from the working folder.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ConfigError

#: The project file that says what a model may hold.
TRUST_FILE = "trust.yaml"
#: Files that mark a project's root (or a bento's source folder) for :func:`find_trust_file`.
ROOT_MARKERS = (TRUST_FILE, "pipeline.yaml", "bentofile.yaml")
#: Where the notebook's own definitions live; skops stores a function by module and name.
MAIN = "__main__"

#: library (its import name) -> exact types its fitted models hold beyond skops' defaults.
#: The gradient-boosting libraries rebuild their booster from the bytes of their own model
#: format (a C++ parser, no Python code runs); a crafted file could crash ``predict``, as a
#: crafted scikit-learn tree could. The store's sha256 guards against accidental damage.
LIBRARIES: dict[str, tuple[str, ...]] = {
    "sklearn": (
        # tree nodes of RandomForest, ExtraTrees, GradientBoosting, DecisionTree, AdaBoost
        "sklearn.tree._tree.Tree",
        # HistGradientBoosting's nodes
        "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
        # nearest neighbours' search trees (their distance metrics: see SKLEARN_MODULES)
        "sklearn.neighbors._kd_tree.KDTree",
        "sklearn.neighbors._ball_tree.BallTree",
        # SimpleImputer keeps the dtype it was fitted on; skops rebuilds a dtype from its name
        "numpy.dtype",
        # ColumnTransformer's column selection by dtype or name pattern (data, no code)
        "sklearn.compose._column_transformer.make_column_selector",
    ),
    "xgboost": (
        "xgboost.core.Booster",
        "xgboost.sklearn.XGBClassifier",
        "xgboost.sklearn.XGBRegressor",
        "xgboost.sklearn.XGBRFClassifier",
        "xgboost.sklearn.XGBRFRegressor",
        "xgboost.sklearn.XGBRanker",
    ),
    "lightgbm": (
        "lightgbm.basic.Booster",
        "lightgbm.sklearn.LGBMClassifier",
        "lightgbm.sklearn.LGBMRegressor",
        "lightgbm.sklearn.LGBMRanker",
        "collections.OrderedDict",  # the booster's parameters
    ),
    "catboost": (
        "catboost.core.CatBoostClassifier",
        "catboost.core.CatBoostRegressor",
    ),
}
#: scikit-learn modules whose own classes and functions a search object or a neighbours
#: model holds: its cross-validation splitters, scorers, metric functions and distances.
#: A name is trusted only if it is *defined* in that module (not merely imported there).
SKLEARN_MODULES = (
    "sklearn.model_selection._split",
    "sklearn.metrics._scorer",
    "sklearn.metrics._classification",
    "sklearn.metrics._ranking",
    "sklearn.metrics._regression",
    "sklearn.metrics._dist_metrics",
)
#: nbprod's own functions a model it builds holds (reviewed here): always trusted
NBPROD_FUNCTIONS = ("nbprod.model.dates.date_parts",)
#: The library whose list is always on: every model nbprod builds is a scikit-learn one.
ALWAYS = ("sklearn",)
#: nbprod's own steps of a served notebook model (:mod:`nbprod.model.adopted`): always on.
OWN = ("nbprod.model.adopted.RawColumns", "nbprod.model.adopted.ColumnAligner",
       "nbprod.model.adopted.FittedFeatures")


@dataclass(frozen=True)
class Trust:
    """What a model of one project may hold, beyond skops' defaults."""

    #: libraries whose reviewed list is on (scikit-learn's always is)
    libraries: tuple[str, ...] = ALWAYS
    #: the project's own top-level packages: every class and function in them
    packages: tuple[str, ...] = ()
    #: other reviewed types, by their full name
    types: tuple[str, ...] = ()
    #: the trust file this was read from (None: nbprod's defaults)
    source: Path | None = field(default=None, compare=False)

    def allows(self, name: str) -> bool:
        """Whether a model may hold the type or function ``name`` (``module.Name``)."""
        module, _, attr = name.rpartition(".")
        if name in self.types or name in OWN or any(
            name in LIBRARIES.get(lib, ()) for lib in self.libraries
        ):
            return True
        if name in NBPROD_FUNCTIONS:
            return True
        if module.split(".")[0] in self.packages and module.split(".")[0] != MAIN:
            return True
        return module in SKLEARN_MODULES and _defined_in(module, attr)

    def refused(self, names: Iterable[str]) -> list[str]:
        """The names in ``names`` this trust does not allow, sorted."""
        return sorted({n for n in names if not self.allows(n)})

    def advice(self, names: Iterable[str]) -> str:
        """What to do about the refused names: one line per library, package or type."""
        where = self.source or Path(TRUST_FILE)
        refused = self.refused(names)
        by_library: dict[str, list[str]] = {}
        lines = []
        for name in refused:
            library = library_of(name)
            if name.split(".")[0] == MAIN:
                lines.append(f"{name}: defined in the notebook itself, which cannot be imported "
                             "when the model is loaded; move it into your project's package "
                             "(src/) and import it from there")
            elif library is not None:
                by_library.setdefault(library, []).append(name)
            else:
                lines.append(f"{name}: review it; if you trust it, add it under `types:` in "
                             f"{where} (or its package under `packages:` if it is yours)")
        lines[:0] = [f"{', '.join(found)}: of {library}, whose types nbprod reviewed; add "
                     f"{library} under `libraries:` in {where}"
                     for library, found in by_library.items()]
        return "\n  ".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {"libraries": list(self.libraries), "packages": list(self.packages),
                "types": list(self.types)}


def needed(names: Iterable[str]) -> tuple[list[str], list[str]]:
    """What a trust file must add for a model holding ``names`` (a notebook's model, at its
    adoption): the reviewed libraries to turn on, and the other types to list. Her own
    definitions (``__main__``) are left out: they move to her package."""
    refused = [n for n in Trust().refused(names) if n.split(".")[0] != MAIN]
    libraries = sorted({lib for n in refused if (lib := library_of(n)) is not None})
    return libraries, [n for n in refused if library_of(n) is None]


def library_of(name: str) -> str | None:
    """The library whose reviewed list holds ``name``, if any."""
    return next((lib for lib, names in LIBRARIES.items() if name in names), None)


def _defined_in(module: str, attr: str) -> bool:
    try:
        value = getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError):
        return False
    return getattr(value, "__module__", None) == module


def find_trust_file(start: str | Path | None = None) -> Path | None:
    """The project's trust file: in ``start`` (the working folder) or the nearest folder
    above it that marks a project's root; None when that root has none."""
    here = Path(start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if any((folder / marker).is_file() for marker in ROOT_MARKERS):
            found = folder / TRUST_FILE
            return found if found.is_file() else None
    return None


def read_trust(path: str | Path) -> Trust:
    """The trust declared in ``path``; a :class:`ConfigError` names what is wrong where."""
    import yaml

    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: cannot read it: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: must be a mapping with libraries, packages and types")
    unknown = sorted(set(data) - {"libraries", "packages", "types"})
    if unknown:
        raise ConfigError(f"{path}: unknown key(s) {unknown}; the keys are libraries, "
                          "packages and types")
    lists = {}
    for key in ("libraries", "packages", "types"):
        value = data.get(key) or []
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise ConfigError(f"{path}: `{key}` must be a list of names, got {value!r}")
        lists[key] = tuple(value)
    unknown_libs = sorted(set(lists["libraries"]) - set(LIBRARIES))
    if unknown_libs:
        raise ConfigError(f"{path}: no reviewed list for librar(ies) {unknown_libs}; nbprod "
                          f"has lists for {sorted(LIBRARIES)}. List their types under `types:`")
    bad = [p for p in lists["packages"] if not p.isidentifier() or p == MAIN]
    if bad:
        raise ConfigError(f"{path}: `packages` holds top-level package names; {bad} is not one")
    return Trust(tuple(dict.fromkeys((*ALWAYS, *lists["libraries"]))), lists["packages"],
                 lists["types"], path)


def project_trust(start: str | Path | None = None) -> Trust:
    """The trust of the project around ``start`` (the working folder): its trust file, or
    scikit-learn's reviewed list alone when it has none."""
    found = find_trust_file(start)
    return read_trust(found) if found is not None else Trust()
