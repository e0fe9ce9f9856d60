"""The vocabulary drift of a ``text`` feature, measured without keeping a single word.

Each text's words (scikit-learn's default tokens: runs of two or more letters or digits,
lower-cased) are hashed into :data:`BUCKETS` buckets, as scikit-learn's
``HashingVectorizer`` does (MurmurHash3, no sign). The training reference keeps only the
share of the training tokens in each bucket (:func:`token_reference`); no word, and no
hash of a single word, is stored with the model or in the bento, and many words share each
bucket. Live texts are hashed the same way and compared with that reference
(:func:`token_scores`):

- ``unseen_tokens``: the share of live tokens whose bucket no training token fell in, so
  words the model never saw (a new product's name, another language);
- ``token_overlap``: the overlap of the two bucket distributions, the sum over buckets of
  the smaller share (1: the same vocabulary in the same proportions, 0: nothing shared).

A text feature drifted when its length PSI or its unseen share passes the threshold
(:class:`nbprod.data.drift.DriftDetector`, the service's live window alike).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

#: buckets the words are hashed into: enough that a vocabulary of a few thousand words
#: keeps most apart, few enough that every bucket is shared by many possible words
BUCKETS = 1024
#: the key of a text feature's reference statistics holding its bucket shares
KEY = "tokens"


def _hasher(buckets: int) -> Any:
    from sklearn.feature_extraction.text import HashingVectorizer

    return HashingVectorizer(n_features=buckets, alternate_sign=False, norm=None,
                             lowercase=True)


def row_buckets(texts: Sequence[Any], buckets: int = BUCKETS) -> list[np.ndarray]:
    """For each text, the bucket of each of its tokens (a blank or a non-text: none)."""
    present = [t if isinstance(t, str) else "" for t in texts]
    matrix = _hasher(buckets).transform(present).tocsr()
    counts = matrix.data.astype(np.int64)
    return [np.repeat(matrix.indices[a:b], counts[a:b])
            for a, b in zip(matrix.indptr[:-1], matrix.indptr[1:], strict=True)]


def bucket_counts(texts: Sequence[Any], buckets: int = BUCKETS) -> np.ndarray:
    """How many tokens of ``texts`` fall in each bucket."""
    matrix = _hasher(buckets).transform([t if isinstance(t, str) else "" for t in texts])
    return np.asarray(matrix.sum(axis=0), dtype="float64").ravel()


def token_reference(texts: Sequence[Any], buckets: int = BUCKETS) -> dict[str, Any]:
    """The training texts' share of tokens per bucket (JSON-ready, no word in it)."""
    counts = bucket_counts(texts, buckets)
    total = float(counts.sum())
    shares = counts / total if total else counts
    return {"buckets": buckets, "shares": [round(float(s), 6) for s in shares],
            "tokens": int(total)}


def token_scores(reference: Mapping[str, Any], counts: np.ndarray) -> tuple[float, float]:
    """(unseen_tokens, token_overlap) of live bucket ``counts`` against ``reference``;
    NaN when the live texts hold no token."""
    total = float(counts.sum())
    if not total:
        return float("nan"), float("nan")
    expected = np.asarray(reference["shares"], dtype="float64")
    live = counts / total
    return float(live[expected == 0].sum()), float(np.minimum(expected, live).sum())
