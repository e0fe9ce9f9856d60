"""One frame for training and serving: the same rows through the pipeline's path (stored
compact, then ``features``) and the service's path (JSON records, the input model, the
predictor's frame) give the same dtypes and values, and her pandas code runs on both."""

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.compose import ColumnTransformer, make_column_selector
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder

from nbprod.data.dataset import features, target
from nbprod.data.frames import input_dtype
from nbprod.data.schema import derive_feature_schema
from nbprod.data.validation import compact, validate
from nbprod.serving.predictor import Predictor, input_model
from nbprod.serving.trial import records


class FillHome(BaseEstimator, TransformerMixin):
    """Her pandas code: a blank home becomes "unknown" (fails on a pandas Categorical)."""

    def fit(self, X, y=None):
        return self

    def transform(self, X):
        X = X.copy()
        X.loc[X["home"].isna(), "home"] = "unknown"
        return X


@pytest.fixture
def paths(loan_table, loan_frame):
    stored = compact(validate(loan_frame(40), loan_table), loan_table)  # what the pipeline keeps
    schema = derive_feature_schema(stored, loan_table)
    trained = features(stored, loan_table)
    Record = input_model(schema)
    sent = [Record.model_validate(r) for r in records(stored, schema, len(stored))]
    served = Predictor(LogisticRegression(), schema, "t:1").frame(sent)
    return stored, trained, served


def test_the_trained_and_the_served_frame_have_the_same_dtypes_and_values(paths):
    stored, trained, served = paths
    assert isinstance(stored["home"].dtype, pd.CategoricalDtype), "stored compact"
    assert trained.dtypes.to_dict() == served.dtypes.to_dict()
    assert {str(t) for t in trained.dtypes} == {"int64", "float64", "str"}
    pd.testing.assert_frame_equal(trained.reset_index(drop=True), served)


def test_her_pandas_code_runs_on_both_paths_with_the_same_answers(paths, loan_table):
    stored, trained, served = paths
    model = make_pipeline(FillHome(), ColumnTransformer([
        ("text", OneHotEncoder(handle_unknown="ignore"),
         make_column_selector(dtype_include=["object", "string"])),
    ], remainder="passthrough"), HistGradientBoostingClassifier(max_iter=20))
    model.fit(trained, target(stored, loan_table))
    np.testing.assert_array_equal(model.predict_proba(trained), model.predict_proba(served))


@pytest.mark.parametrize(("kind", "categories", "nullable", "dtype"), [
    ("categorical", ["a", "b"], False, "str"), ("categorical", ["a", "b"], True, "str"),
    ("categorical", [1, 2], False, "int64"), ("categorical", [1, 2], True, "float64"),
    ("categorical", [1.5, 2], False, "float64"), ("binary", None, False, "int64"),
    ("binary", None, True, "float64"), ("integer", None, False, "int64"),
    ("integer", None, True, "float64"), ("number", None, False, "float64"),
])
def test_each_kind_has_the_dtype_a_csv_reader_gives(kind, categories, nullable, dtype):
    assert input_dtype(kind, categories, nullable) == dtype
