"""The vocabulary drift of a text feature: hashed word buckets, no word kept, the same
scores offline (``DriftDetector``) and in the service's sliding window (``WindowDrift``)."""

import json

import numpy as np
import pandas as pd
import pytest
from test_text import ANGRY, CALM, TABLE, tickets

from nbprod.data.columns import ColumnTable
from nbprod.data.drift import DriftDetector
from nbprod.data.schema import derive_feature_schema, reference_statistics
from nbprod.data.token_drift import BUCKETS, bucket_counts, row_buckets, token_scores
from nbprod.data.validation import validate
from nbprod.monitoring.window_drift import WindowDrift


def reversed_words(n: int, seed: int) -> pd.DataFrame:
    """The same tickets with every word spelt backwards: the same lengths, other words."""
    raw = tickets(n, seed)
    raw["Ticket Text"] = [t if not isinstance(t, str) else
                          " ".join(w[::-1] if w[0] != "#" else w for w in t.split())
                          for t in raw["Ticket Text"]]
    return raw


@pytest.fixture
def fitted():
    table = ColumnTable.from_dict(TABLE, source="tickets.yaml")
    train = validate(tickets(800), table)
    reference = reference_statistics(train, derive_feature_schema(train, table))
    return table, reference


def test_the_reference_keeps_bucket_shares_and_no_word(fitted):
    _, reference = fitted
    # the length's bins hold the training texts (a blank text has no length)
    assert sum(reference["body"]["frequencies"]) == pytest.approx(1.0)
    tokens = reference["body"]["tokens"]
    assert tokens["buckets"] == BUCKETS and len(tokens["shares"]) == BUCKETS
    assert sum(tokens["shares"]) == pytest.approx(1.0, abs=1e-4)
    assert tokens["tokens"] > 800 * 4
    stored = json.dumps(reference)
    assert not [w for w in CALM + ANGRY if w in stored]


def test_new_words_of_the_same_length_drift_and_the_same_words_do_not(fitted):
    table, reference = fitted
    detector = DriftDetector(threshold=0.2, min_rows=50).fit(reference)
    same = detector.score(validate(tickets(800, seed=1), table))
    other = detector.score(validate(reversed_words(800, seed=1), table))
    assert same.loc["body", "unseen_tokens"] < 0.01 and same.loc["body", "token_overlap"] > 0.9
    assert not same.loc["body", "drifted"]
    # the length barely moved, the words did: only the words say so
    assert other.loc["body", "psi"] < 0.2
    assert other.loc["body", "unseen_tokens"] > 0.5 and other.loc["body", "token_overlap"] < 0.5
    assert other.loc["body", "drifted"] and not other.loc["priority", "drifted"]
    assert np.isnan(other.loc["priority", "unseen_tokens"])


def test_the_live_window_scores_words_as_the_offline_report_does(fitted):
    table, reference = fitted
    detector = DriftDetector(threshold=0.2, min_rows=50).fit(reference)
    window = WindowDrift(reference, size=300, threshold=0.2, min_rows=50)
    rows = lambda frame: frame[["body", "priority"]].astype(object).to_dict("records")  # noqa: E731
    frames = [validate(tickets(250, seed=2), table), validate(reversed_words(250, seed=3), table)]
    for frame in frames:
        window.add(rows(frame))
    last = pd.concat(frames).iloc[-300:]  # the window slid past the first 200 rows
    live, offline = window.scores(), detector.score(last)
    for column in ("unseen_tokens", "token_overlap"):
        assert live.loc["body", column] == pytest.approx(offline.loc["body", column])
    assert live.loc["body", "drifted"] == offline.loc["body", "drifted"]


def test_tokens_are_hashed_per_row_and_blank_texts_have_none():
    buckets = row_buckets(["Refund refund now", None, "a", ""], 64)
    assert [len(b) for b in buckets] == [3, 0, 0, 0]  # one-letter words are not tokens
    assert sorted(np.bincount(buckets[0]))[-2:] == [1, 2]  # a word's bucket ignores its case
    assert bucket_counts(["Refund refund now"], 64).sum() == 3
    assert np.isnan(token_scores({"shares": [1.0] + [0.0] * 63}, np.zeros(64))[0])
