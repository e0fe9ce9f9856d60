"""What a model may hold: each library's reviewed list, her package, the trust file, and the
refusals at save and at load (including a store entry swapped for another library's model)."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
import skops.io as sio
import yaml
from sklearn.ensemble import GradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, RandomizedSearchCV
from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from nbprod import ConfigError, ModelStoreError, get_model, load_model, register_model
from nbprod.model.artifacts import held_types, load_model_file, save_model
from nbprod.model.trust import LIBRARIES, Trust, find_trust_file, project_trust, read_trust
from nbprod.registry.lineage import sha256_file

X = np.random.default_rng(0).random((80, 3))
Y = (X[:, 0] > 0.5).astype(int)


def fitted(name: str):
    """A small fitted model of each supported family."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if name == "xgboost":
            from xgboost import XGBClassifier
            return XGBClassifier(n_estimators=3).fit(X, Y)
        if name == "lightgbm":
            from lightgbm import LGBMClassifier
            return LGBMClassifier(n_estimators=3, verbose=-1).fit(X, Y)
        if name == "catboost":
            from catboost import CatBoostClassifier
            return CatBoostClassifier(iterations=3, verbose=0, allow_writing_files=False).fit(X, Y)
    raise KeyError(name)


SKLEARN = {
    "forest": lambda: RandomForestClassifier(n_estimators=3, random_state=0),
    "boosting": lambda: GradientBoostingClassifier(n_estimators=3, random_state=0),
    "knn_ball_tree": lambda: KNeighborsClassifier(algorithm="ball_tree"),
    "knn_kd_manhattan": lambda: KNeighborsRegressor(metric="manhattan", algorithm="kd_tree"),
    "grid": lambda: GridSearchCV(RandomForestClassifier(n_estimators=3), {"max_depth": [2, 3]},
                                 cv=2, scoring="roc_auc"),
    "randomized": lambda: RandomizedSearchCV(LogisticRegression(), {"C": [0.1, 1.0]}, n_iter=2,
                                             cv=2, scoring="f1"),
}


@pytest.mark.parametrize("name", sorted(SKLEARN))
def test_scikit_learn_models_need_nothing_in_the_trust_file(name, tmp_path):
    model = SKLEARN[name]().fit(X, Y)
    path = save_model(model, tmp_path / "m.skops", Trust())
    np.testing.assert_array_equal(load_model_file(path, Trust()).predict(X), model.predict(X))


@pytest.mark.parametrize("library", ["xgboost", "lightgbm", "catboost"])
def test_each_library_list_is_what_its_model_needs_and_nothing_loads_without_it(library, tmp_path):
    model = fitted(library)
    needed = set(sio.get_untrusted_types(data=sio.dumps(model)))
    assert needed <= set(LIBRARIES[library]), needed - set(LIBRARIES[library])
    with pytest.raises(ModelStoreError, match=rf"add {library} under `libraries:`"):
        save_model(model, tmp_path / "m.skops", Trust())
    path = save_model(model, tmp_path / "m.skops", Trust(libraries=("sklearn", library)))
    np.testing.assert_allclose(
        load_model_file(path, Trust(libraries=("sklearn", library))).predict_proba(X),
        model.predict_proba(X))
    with pytest.raises(ModelStoreError, match=rf"refusing to load .*{library}"):
        load_model_file(path, Trust())


def test_a_store_entry_swapped_for_a_model_of_a_library_the_project_does_not_trust_is_refused(
        tmp_path, request):
    name = request.node.name[:40]
    tag = register_model(name, LogisticRegression().fit(X, Y), {})
    stored = get_model(tag)
    swapped = Path(stored.path) / "model.skops"
    swapped.write_bytes(sio.dumps(fitted("lightgbm")))
    info = Path(stored.path) / "model.yaml"
    data = yaml.safe_load(info.read_text())
    data["metadata"]["artifact"]["sha256"] = sha256_file(swapped)  # the attacker's digest
    info.write_text(yaml.safe_dump(data))
    with pytest.raises(ModelStoreError, match=r"lightgbm\.basic\.Booster"):
        load_model(tag, Trust(libraries=("sklearn", "xgboost")))


def test_her_package_is_trusted_and_a_notebook_function_is_refused_with_what_to_do(tmp_path):
    from churn.models import charge_ratio  # the reference project's own package

    def encode(x):  # defined "in the notebook": not importable when loaded
        return x

    theirs = make_pipeline(FunctionTransformer(np.sqrt), LogisticRegression()).fit(X, Y)
    save_model(theirs, tmp_path / "numpy.skops", Trust())
    own = make_pipeline(FunctionTransformer(charge_ratio), LogisticRegression())
    own.steps[0][1].fit(None)
    assert "churn.models.charge_ratio" in held_types(sio.dumps(own))
    with pytest.raises(ModelStoreError, match="under `types:`"):
        save_model(own, tmp_path / "own.skops", Trust())
    save_model(own, tmp_path / "own.skops", Trust(packages=("churn",)))
    main = make_pipeline(FunctionTransformer(encode), LogisticRegression()).fit(X, Y)
    main.steps[0][1].func.__module__ = "__main__"
    with pytest.raises(ModelStoreError, match=r"__main__\.encode: defined in the notebook itself.*"
                                              r"move it into your project's package"):
        save_model(main, tmp_path / "main.skops", Trust(packages=("churn", "__main__")))
    assert not (tmp_path / "main.skops").exists()


def test_what_skops_cannot_store_is_named_with_where_it_is(tmp_path):
    import pandas as pd

    model = LogisticRegression().fit(X, Y)
    model.columns_ = pd.Index(["a", "b", "c"])
    with pytest.raises(ModelStoreError, match=r"model\.columns_ \(pandas\.Index\).*tolist"):
        save_model(model, tmp_path / "m.skops", Trust())


def test_the_trust_file_is_found_from_the_working_folder_and_checked(tmp_path):
    (tmp_path / "pipeline.yaml").write_text("tasks: []\n")
    (tmp_path / "notebooks").mkdir()
    assert find_trust_file(tmp_path / "notebooks") is None
    assert project_trust(tmp_path / "notebooks") == Trust()
    (tmp_path / "trust.yaml").write_text(yaml.safe_dump(
        {"libraries": ["xgboost"], "packages": ["loans"], "types": ["a.B"]}))
    trust = project_trust(tmp_path / "notebooks")
    assert trust == Trust(("sklearn", "xgboost"), ("loans",), ("a.B",))
    assert trust.allows("loans.features.Encoder") and trust.allows("a.B")
    assert trust.allows("xgboost.core.Booster") and not trust.allows("lightgbm.basic.Booster")
    assert trust.allows("sklearn.metrics._ranking.roc_auc_score")
    # a name merely imported into a trusted scikit-learn module is not trusted
    assert not trust.allows("sklearn.metrics._scorer.Counter")  # collections.Counter
    for bad, message in [({"libraries": ["tensorflow"]}, "no reviewed list"),
                         ({"packages": ["not a name"]}, "top-level package"),
                         ({"types": "a.B"}, "list of names"), ({"trusted": []}, "unknown key")]:
        (tmp_path / "trust.yaml").write_text(yaml.safe_dump(bad))
        with pytest.raises(ConfigError, match=message):
            read_trust(tmp_path / "trust.yaml")
