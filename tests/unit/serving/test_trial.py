"""The gate's single-record trial: a model that answers the held-out frame but not one record
as /predict sends it is caught before promotion, and never promoted."""

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from nbprod.data.dataset import features, target
from nbprod.data.schema import derive_feature_schema
from nbprod.data.validation import compact, validate
from nbprod.registry.gate import GatePolicy
from nbprod.registry.lifecycle import register_and_gate, stage_of
from nbprod.registry.store import get_model
from nbprod.serving.trial import records, single_record_trial


def dummies(frame: pd.DataFrame) -> pd.DataFrame:
    """Her feature code: one-hot with pandas, which depends on the rows it is given."""
    return pd.get_dummies(frame, dtype="float64").fillna(0.0)


@pytest.fixture
def held_out(loan_table, loan_frame):
    stored = compact(validate(loan_frame(60), loan_table), loan_table)
    return stored, derive_feature_schema(stored, loan_table), features(stored, loan_table)


def test_a_model_that_cannot_answer_one_record_fails_the_trial(held_out, loan_table):
    stored, schema, X = held_out
    model = make_pipeline(FunctionTransformer(dummies), LogisticRegression(max_iter=500))
    model.fit(X, target(stored, loan_table))
    assert model.predict_proba(X).shape == (len(X), 2), "the whole frame is answered"
    reason = single_record_trial(model, schema, stored)
    assert reason is not None and reason.startswith("held-out row 0 alone, as /predict sends it")
    assert "could not score the input" in reason


def test_a_model_that_answers_one_record_as_in_a_batch_passes(held_out, loan_table):
    from nbprod.model.modeling import build_model

    stored, schema, X = held_out
    model = build_model(schema, "logistic_regression", {}, seed=0)
    model.fit(X, target(stored, loan_table))
    assert single_record_trial(model, schema, stored) is None


def test_records_are_what_a_client_sends(held_out):
    stored, schema, _ = held_out
    sent = records(stored, schema, 3)
    assert len(sent) == 3 and set(sent[0]) == set(schema.names)
    assert all(isinstance(r["age"], int) and isinstance(r["grade"], int) for r in sent)
    assert any(r["income"] is None for r in records(stored, schema, 60))


def test_a_failed_trial_is_registered_but_never_promoted(request):
    model = LogisticRegression().fit(np.array([[0.0], [1.0], [2.0], [3.0]]), [0, 0, 1, 1])
    policy = GatePolicy.from_dict({"metric": "roc_auc", "tolerance": 0.01, "floor": 0.5})
    tag, decision = register_and_gate(request.node.name[:40], model,
                                      {"metrics": {"roc_auc": 0.99}}, policy,
                                      trial="held-out row 0 alone: X has 3 features")
    assert not decision.promote
    assert decision.reason == ("it cannot answer one record as /predict does: held-out row 0 "
                               "alone: X has 3 features")
    assert decision.checks, "the metrics' checks are still shown"
    assert stage_of(get_model(tag)) == "candidate"
