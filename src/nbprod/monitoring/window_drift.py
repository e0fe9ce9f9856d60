"""Live input drift: the bin counts of a sliding window of served rows, against the
training reference."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..data.drift import binner, js_distance, psi, reference_features, reference_shares
from ..data.token_drift import KEY as TOKENS
from ..data.token_drift import row_buckets, token_scores
from ..errors import ConfigError

_NONE = np.zeros(0, dtype=np.int64)  # a row with no token (or no row yet)


class WindowDrift:
    """Per-feature bin counts of a sliding window of rows, kept up to date incrementally.

    The bins are the reference's (training deciles for numbers, declared categories plus
    ``other``), exactly those of :class:`nbprod.data.drift.DriftDetector`, so :meth:`scores` gives
    the same PSI and Jensen-Shannon distance as ``DriftDetector().fit(reference).score``
    on the window's rows: both bin through :func:`nbprod.data.drift.binner` and score with
    :func:`nbprod.data.drift.psi` and :func:`nbprod.data.drift.js_distance`. The window is a ring
    buffer of bin indices (``size`` x features): adding ``k`` rows bins them (vectorised per
    feature), subtracts the ``k`` rows they overwrite and adds theirs, so no update re-reads
    the whole window. The counts of all features sit end to end in one array. A text
    feature's words are counted per hashed bucket the same way (:meth:`token_statistics`).
    """

    def __init__(self, reference: Mapping[str, Any], size: int, threshold: float = 0.2,
                 min_rows: int = 50) -> None:
        self.reference = reference_features(reference)
        if not self.reference:
            raise ConfigError("reference statistics hold no feature")
        self.features = list(self.reference)
        self.threshold, self.min_rows = threshold, min_rows
        expected = [reference_shares(self.reference[f]) for f in self.features]
        self.offsets = np.cumsum([0, *map(len, expected)])[:-1]  # first bin of each feature
        self.expected = np.concatenate(expected)
        self.counts = np.zeros(len(self.expected))
        self.bins = np.full((size, len(self.features)), -1, dtype=np.int32)  # flat, -1 missing
        self._pos = self._filled = 0
        self._binners = [binner(self.reference[f]) for f in self.features]
        #: text features: the window's words per bucket, and each row's buckets to subtract
        self.tokens = {f: self.reference[f][TOKENS] for f in self.features
                       if TOKENS in self.reference[f]}
        self.token_counts = {f: np.zeros(t["buckets"]) for f, t in self.tokens.items()}
        self._token_rows = {f: [_NONE] * size for f in self.tokens}

    def __len__(self) -> int:
        """Rows in the window."""
        return self._filled

    def add(self, rows: Sequence[Mapping[str, Any]]) -> None:
        """Slide the window over ``rows`` (dicts holding every feature)."""
        size = len(self.bins)
        rows = rows[-size:]
        if not rows:
            return
        new = np.column_stack([
            bin_values([row[f] for row in rows])
            for bin_values, f in zip(self._binners, self.features, strict=True)
        ])
        new = np.where(new >= 0, new + self.offsets, -1)
        where = (self._pos + np.arange(len(rows))) % size
        old = self.bins[where].ravel()
        self.counts -= np.bincount(old[old >= 0], minlength=len(self.counts))
        self.counts += np.bincount(new[new >= 0], minlength=len(self.counts))
        self.bins[where] = new
        for feature, ref in self.tokens.items():
            self._slide_tokens(feature, ref["buckets"], [row[feature] for row in rows], where)
        self._pos = (self._pos + len(rows)) % size
        self._filled = min(size, self._filled + len(rows))

    def _slide_tokens(self, feature: str, buckets: int, texts: list[Any],
                      where: np.ndarray) -> None:
        kept, counts = self._token_rows[feature], self.token_counts[feature]
        new = row_buckets(texts, buckets)
        old = np.concatenate([kept[w] for w in where])
        counts -= np.bincount(old, minlength=buckets)
        counts += np.bincount(np.concatenate([_NONE, *new]), minlength=buckets)
        for w, row in zip(where, new, strict=True):
            kept[w] = row

    def token_statistics(self) -> tuple[np.ndarray, np.ndarray]:
        """(unseen_tokens, token_overlap) per feature in feature order
        (:func:`nbprod.data.token_drift.token_scores`; NaN but for a text feature)."""
        unseen, overlap = np.full(len(self.features), np.nan), np.full(len(self.features), np.nan)
        for k, feature in enumerate(self.features):
            if feature in self.tokens:
                unseen[k], overlap[k] = token_scores(self.tokens[feature],
                                                     self.token_counts[feature])
        return unseen, overlap

    def statistics(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(PSI, Jensen-Shannon distance, rows) per feature, as arrays in feature order.

        :func:`nbprod.data.drift.psi` and :func:`nbprod.data.drift.js_distance` of each feature's
        window shares; NaN for a feature with no value in the window.
        """
        n = np.add.reduceat(self.counts, self.offsets)
        psis, jss = np.full(len(n), np.nan), np.full(len(n), np.nan)
        ends = [*self.offsets[1:], len(self.counts)]
        for k, (start, end) in enumerate(zip(self.offsets, ends, strict=True)):
            if n[k]:
                expected, actual = self.expected[start:end], self.counts[start:end] / n[k]
                psis[k], jss[k] = psi(expected, actual), js_distance(expected, actual)
        return psis, jss, n

    def drifted(self, psis: np.ndarray, rows: np.ndarray,
                unseen: np.ndarray | None = None) -> np.ndarray:
        """Which features drifted: enough rows and a PSI (or, for a text feature, a share
        of unseen tokens) over the threshold."""
        over = psis > self.threshold
        if unseen is not None:
            over |= np.nan_to_num(unseen, nan=0.0) > self.threshold
        return (rows >= self.min_rows) & over

    def scores(self) -> pd.DataFrame:
        """One row per feature: psi, js_distance, rows, drifted, unseen_tokens and
        token_overlap (as DriftDetector.score)."""
        psis, jss, n = self.statistics()
        unseen, overlap = self.token_statistics()
        drifted = self.drifted(psis, n, unseen)
        return pd.DataFrame({"feature": self.features, "psi": psis, "js_distance": jss,
                             "rows": n.astype(int), "drifted": drifted,
                             "unseen_tokens": unseen, "token_overlap": overlap,
                             }).set_index("feature")
