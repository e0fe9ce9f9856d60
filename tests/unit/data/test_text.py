"""A column of kind ``text`` (free text: a review, a ticket) through the toolkit: declared
with a length bound and validated, one dtype for training and serving (a blank is the
empty text), vectorised by the default model by hashing its words (saved and loaded under the
default trust, keeping no word), checked in batch files, and its drift measured on its length."""

import zipfile

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from nbprod.data.columns import ColumnTable
from nbprod.data.dataset import features, split, target
from nbprod.data.drift import DriftDetector
from nbprod.data.frames import model_frame
from nbprod.data.schema import derive_feature_schema, reference_statistics
from nbprod.data.validation import validate
from nbprod.errors import BatchInputError, ConfigError, DataValidationError
from nbprod.model.artifacts import load_model_file, save_model
from nbprod.model.modeling import TEXT_BUCKETS, TREE_BUCKETS, build_model
from nbprod.model.trust import Trust
from nbprod.serving.batch import check_chunk

TABLE = {
    "target": "escalated", "positive": "yes", "record": "Ticket",
    "columns": {
        "body": {"source": "Ticket Text", "kind": "text", "max_length": 400, "nullable": True},
        "priority": {"kind": "integer", "min": 1, "max": 5},
        "escalated": {"kind": "categorical", "categories": ["no", "yes"]},
    },
}
ANGRY = ["refund", "broken", "cancel", "lawyer", "furious", "unacceptable"]
CALM = ["thanks", "question", "how", "invoice", "address", "password", "please", "update"]


def tickets(n: int = 800, seed: int = 0, words: tuple[int, int] = (5, 12)) -> pd.DataFrame:
    """Raw tickets whose escalation is read from their words (angry ones escalate)."""
    rng = np.random.default_rng(seed)
    angry = rng.random(n) < 0.3
    bodies = []
    for i, a in enumerate(angry):
        pool = CALM + ANGRY[:2] if not a else CALM + ANGRY
        text = " ".join(rng.choice(pool, rng.integers(*words)))
        bodies.append(None if i % 25 == 0 else f"{text} #{i}")
    escalated = np.where(angry, rng.random(n) < 0.9, rng.random(n) < 0.08)
    return pd.DataFrame({"Ticket Text": bodies, "priority": rng.integers(1, 6, n),
                         "escalated": np.where(escalated, "yes", "no")})


@pytest.fixture
def table() -> ColumnTable:
    return ColumnTable.from_dict(TABLE, source="tickets.yaml")


def test_text_is_validated_against_its_length_bound(table):
    df = validate(tickets(), table, source="tickets.csv")
    assert df["body"].isna().sum() == 32  # every 25th of 800 is blank, and may be
    raw = tickets(50)
    raw.loc[[4, 9], "Ticket Text"] = "x" * 401
    with pytest.raises(DataValidationError) as err:
        validate(raw, table, source="tickets.csv")
    assert "body" in str(err.value) and "str_length" in str(err.value) and "2 row" in str(err.value)


@pytest.mark.parametrize("spec, message", [
    ({"kind": "text", "max_length": 0}, "max_length: a whole number of characters >= 1"),
    ({"kind": "number", "max_length": 10}, "on a text column only; got 10 on a number column"),
    ({"kind": "text", "max_length": "long"}, "got 'long'"),
])
def test_a_wrong_length_bound_is_refused_naming_the_key(spec, message):
    with pytest.raises(ConfigError, match="tickets.yaml: columns.body.max_length") as err:
        ColumnTable.from_dict({**TABLE, "columns": {**TABLE["columns"], "body": spec}},
                              source="tickets.yaml")
    assert message in str(err.value)


def test_a_blank_text_is_the_empty_text_in_training_and_serving(table):
    schema = derive_feature_schema(validate(tickets(50), table), table)
    served = model_frame({"body": [np.nan, "refund now"], "priority": [1, 2]}, schema.features)
    trained = model_frame(pd.DataFrame({"body": [None, "refund now"], "priority": [1, 2]}),
                          schema.features)
    assert list(served["body"]) == list(trained["body"]) == ["", "refund now"]
    assert served["body"].dtype == trained["body"].dtype
    assert schema.features[0].max_length == 400


@pytest.mark.parametrize("estimator", ["logistic_regression", "gradient_boosting"])
def test_the_default_model_learns_from_the_words(table, tmp_path, estimator):
    df = validate(tickets(), table).reset_index(drop=True)
    train, test = split(df, table, 0.25, 0)
    schema = derive_feature_schema(train, table)
    params = {"max_iter": 30} if estimator == "gradient_boosting" else {}
    model = build_model(schema, estimator, params, seed=0)
    model.fit(features(train, table), target(train, table))
    saved = save_model(model, tmp_path / "model.skops")
    loaded = load_model_file(saved, Trust())
    proba = loaded.predict_proba(features(test, table))[:, 1]
    assert roc_auc_score(target(test, table), proba) > 0.8
    hashed = model.named_steps["preprocess"].named_transformers_["text_body"]
    bound = TREE_BUCKETS if estimator == "gradient_boosting" else TEXT_BUCKETS
    assert hashed[-1].idf_.shape == (2 * bound,)  # words and word pairs, character n-grams
    # the stored model keeps no word of her texts: not in the file, in any of its members
    with zipfile.ZipFile(saved) as stored:
        content = b"".join(stored.read(name) for name in stored.namelist())
    words = {w for body in train["body"] for w in str(body).split() if len(w) > 3}
    assert len(words) > 5 and not [w for w in words if w.encode() in content]
    blind = build_model(schema.__class__([f for f in schema.features if f.kind != "text"],
                                         schema.target, schema.classes), estimator, params, 0)
    blind.fit(features(train, table)[["priority"]], target(train, table))
    unseen = blind.predict_proba(features(test, table)[["priority"]])[:, 1]
    assert roc_auc_score(target(test, table), unseen) < 0.65


def test_a_batch_file_with_a_text_too_long_is_refused_naming_it(table):
    schema = derive_feature_schema(validate(tickets(20), table), table)
    chunk = pd.DataFrame({"body": ["fine", "y" * 500, None], "priority": [1, 2, 3]})
    with pytest.raises(BatchInputError) as err:
        check_chunk(chunk, schema, "new.csv")
    assert "body" in str(err.value) and "longer than 400 characters" in str(err.value)
    assert "row 1" in str(err.value)


def test_text_drifts_when_its_length_moves(table):
    train = validate(tickets(800), table)
    reference = reference_statistics(train, derive_feature_schema(train, table))
    assert reference["body"]["type"] == "numeric" and reference["body"]["of"] == "length"
    detector = DriftDetector(threshold=0.2, min_rows=50).fit(reference)
    same = detector.score(validate(tickets(800, seed=1), table))
    longer = detector.score(validate(tickets(800, seed=1, words=(25, 40)), table))
    assert not same.loc["body", "drifted"]
    assert longer.loc["body", "drifted"] and not longer.loc["priority", "drifted"]


def test_the_text_vectorizer_matches_a_word_inflected_where_words_alone_do_not():
    from sklearn.feature_extraction.text import HashingVectorizer
    from sklearn.metrics.pairwise import cosine_similarity

    from nbprod.model.modeling import text_vectorizer

    texts = ["please refund me", "refunded twice", "parcel lost"]
    both = text_vectorizer().fit_transform(texts)
    words = HashingVectorizer(n_features=TEXT_BUCKETS, ngram_range=(1, 2)).transform(texts)
    assert cosine_similarity(words[0], words[1])[0, 0] == 0  # no word in common
    assert cosine_similarity(both[0], both[1])[0, 0] > cosine_similarity(both[0], both[2])[0, 0]
    assert cosine_similarity(both[0], both[1])[0, 0] > 0.1  # "refund" inside "refunded"
