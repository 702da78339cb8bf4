"""What every ranking metric reads, checked and normalised in one place.

:func:`~skmm.metrics.rank_gallery` ranks a score matrix with skmm's tie
rule; ``_check_ranking`` checks a metric's arguments (a score matrix or
search results, one relevance specification, the cut-off ``k``) and
returns a ``_Ranking``, which averages a metric's per-query statistic over
the queries, block by block, as sklearn's ``_check_targets`` serves its
classification metrics.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
from sklearn.exceptions import UndefinedMetricWarning

__all__ = ["rank_gallery"]

# queries per block when ranking a score matrix: bounds the int64 order
# matrix to _QUERY_CHUNK * n_gallery entries
_QUERY_CHUNK = 1024


# stat(hits, n_relevant): per-query values from the hits of a block of
# queries' ranked lists (bool, best first) and their numbers of relevant items
_Stat = Callable[[np.ndarray, np.ndarray], np.ndarray]


def rank_gallery(scores: Any, k: int | None = None) -> np.ndarray:
    """Gallery indices of each query, best first, with skmm's tie rule.

    Among equal scores the lower gallery index ranks first; a NaN score
    counts as ``-inf``.

    Parameters
    ----------
    scores : array-like of shape (n_queries, n_gallery)
        Similarity scores, higher is better.
    k : int, optional
        Keep only the first ``k`` columns (all by default).

    Returns
    -------
    ndarray of shape (n_queries, min(k, n_gallery)), int64

    Examples
    --------
    >>> rank_gallery([[0.1, 0.9, 0.9, 0.5]])
    array([[1, 2, 3, 0]])
    """
    s = _as_scores(scores)
    neg = -np.where(np.isnan(s), -np.inf, s)
    order = np.argsort(neg, axis=1, kind="stable")
    if k is not None:
        order = order[:, : int(k)]
    return order.astype(np.int64, copy=False)


# ----------------------------------------------------------------- inputs
def _as_scores(scores: Any) -> np.ndarray:
    s = np.asarray(scores, dtype=np.float64)
    if s.ndim != 2:
        raise ValueError(
            f"scores must be a 2-D (n_queries, n_gallery) matrix, got shape {s.shape}"
        )
    return s


class _Relevance:
    """One relevance spec, checked once; gives hits for ranked gallery ids."""

    def __init__(
        self,
        n_queries: int,
        n_gallery: int | None,
        relevant: Any,
        query_labels: Any,
        gallery_labels: Any,
    ):
        self.n_queries = n_queries
        self.relevant = None
        self.qlab = self.glab = None
        if relevant is not None:
            if query_labels is not None or gallery_labels is not None:
                raise ValueError(
                    "Pass either relevant= or query_labels= and gallery_labels=, "
                    "not both."
                )
            rel = np.asarray(relevant)
            if rel.ndim != 2 or rel.shape[0] != n_queries:
                raise ValueError(
                    f"relevant must have shape (n_queries={n_queries}, n_gallery), "
                    f"got {rel.shape}"
                )
            if n_gallery is not None and rel.shape[1] != n_gallery:
                raise ValueError(
                    f"relevant has {rel.shape[1]} gallery columns, but the scores "
                    f"have {n_gallery}"
                )
            self.relevant = rel.astype(bool)
            self.n_relevant = self.relevant.sum(axis=1)
        elif query_labels is not None or gallery_labels is not None:
            if query_labels is None or gallery_labels is None:
                raise ValueError(
                    "query_labels and gallery_labels must be given together"
                )
            self.qlab = np.asarray(query_labels).ravel()
            self.glab = np.asarray(gallery_labels).ravel()
            if self.qlab.shape[0] != n_queries:
                raise ValueError(
                    f"query_labels has {self.qlab.shape[0]} entries, but there are "
                    f"{n_queries} queries"
                )
            if n_gallery is not None and self.glab.shape[0] != n_gallery:
                raise ValueError(
                    f"gallery_labels has {self.glab.shape[0]} entries, but the "
                    f"gallery has {n_gallery} items"
                )
            uniq, counts = np.unique(self.glab, return_counts=True)
            pos = np.searchsorted(uniq, self.qlab)
            pos = np.clip(pos, 0, max(len(uniq) - 1, 0))
            found = (
                (uniq[pos] == self.qlab)
                if len(uniq)
                else np.zeros(n_queries, dtype=bool)
            )
            self.n_relevant = np.where(found, counts[pos] if len(uniq) else 0, 0)
        else:
            if n_gallery is not None and n_gallery < n_queries:
                raise ValueError(
                    "Without relevant= or labels, query i's relevant item is gallery "
                    f"item i, which needs n_gallery >= n_queries; got {n_gallery} "
                    f"gallery items for {n_queries} queries."
                )
            self.n_relevant = np.ones(n_queries, dtype=np.int64)
        self.n_relevant = np.asarray(self.n_relevant, dtype=np.int64)

    def hits(self, rows: slice, ranked: np.ndarray) -> np.ndarray:
        """Boolean relevance of ``ranked`` gallery ids (``-1``: no item)."""
        valid = ranked >= 0
        safe = np.where(valid, ranked, 0)
        if self.relevant is not None:
            if safe.size and safe.max() >= self.relevant.shape[1]:
                raise ValueError(
                    f"indices refer to gallery item {int(safe.max())}, but relevant "
                    f"has {self.relevant.shape[1]} columns"
                )
            h = np.take_along_axis(self.relevant[rows], safe, axis=1)
        elif self.glab is not None:
            if safe.size and safe.max() >= self.glab.shape[0]:
                raise ValueError(
                    f"indices refer to gallery item {int(safe.max())}, but "
                    f"gallery_labels has {self.glab.shape[0]} entries"
                )
            h = self.glab[safe] == self.qlab[rows][:, None]
        else:
            q = np.arange(self.n_queries)[rows]
            h = safe == q[:, None]
        return h & valid


def _check_k(k: Any, name: str = "k") -> int:
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"{name} must be a positive int, got {k!r}")
    return int(k)


class _Ranking:
    """The checked arguments of one metric call.

    Holds the ranked lists' source (a score matrix, or search results cut
    at ``k``), the relevance and the cut-off ``k`` (None: every rank).
    """

    def __init__(
        self,
        k: int | None,
        scores: np.ndarray | None,
        indices: np.ndarray | None,
        relevance: _Relevance,
    ):
        self.k = k
        self.scores = scores
        self.indices = indices
        self.relevance = relevance

    @property
    def n_ranked(self) -> int | None:
        """Length of the given search results' lists (None for scores)."""
        return None if self.indices is None else self.indices.shape[1]

    def average(self, stat: _Stat, name: str, how: Callable = np.mean) -> float:
        """``how`` of ``stat`` over the queries with a relevant item.

        Queries without one are left out with an UndefinedMetricWarning
        (NaN when none is left).
        """
        rel = self.relevance
        values = np.empty(rel.n_queries, dtype=np.float64)
        for start in range(0, rel.n_queries, _QUERY_CHUNK):
            rows = slice(start, min(start + _QUERY_CHUNK, rel.n_queries))
            if self.indices is not None:
                ranked = self.indices[rows]
            else:
                ranked = rank_gallery(self.scores[rows], self.k)
            values[rows] = stat(rel.hits(rows, ranked), rel.n_relevant[rows])
        defined = rel.n_relevant > 0
        n_undefined = int((~defined).sum())
        if n_undefined:
            warnings.warn(
                f"{n_undefined} of {defined.size} queries have no relevant item in "
                f"the gallery and are left out of {name}.",
                UndefinedMetricWarning,
                stacklevel=3,  # the metric's caller
            )
        if not defined.any():
            return float("nan")
        return float(how(values[defined]))


def _check_ranking(
    scores: Any,
    relevant: Any,
    query_labels: Any,
    gallery_labels: Any,
    indices: Any,
    k: Any = None,
    *,
    k_required: bool = True,
) -> _Ranking:
    """Check and normalise a ranking metric's arguments.

    Parameters
    ----------
    scores, relevant, query_labels, gallery_labels, indices
        As the metrics take them: exactly one of ``scores`` and ``indices``,
        and at most one relevance specification.
    k : int or None
        The cut-off; None means every rank, which only a metric with
        ``k_required=False`` accepts.
    k_required : bool, default=True
        Whether the metric needs a cut-off.

    Returns
    -------
    _Ranking
        Search results cut at ``k``, or the float64 score matrix, with
        their relevance and the checked ``k``.
    """
    if k_required or k is not None:
        k = _check_k(k)
    if (scores is None) == (indices is None):
        raise ValueError(
            "Pass exactly one of a score matrix (scores) or ranked indices "
            "(indices=, as returned by search)."
        )
    if indices is not None:
        indices = np.asarray(indices)
        if indices.ndim != 2 or not np.issubdtype(indices.dtype, np.integer):
            raise ValueError(
                "indices must be a 2-D integer array (n_queries, k) as returned "
                f"by search, got dtype {indices.dtype} and shape {indices.shape}"
            )
        n_queries, n_gallery = indices.shape[0], None
        if k is not None:
            indices = indices[:, :k]
    else:
        scores = _as_scores(scores)
        n_queries, n_gallery = scores.shape
        if n_gallery == 0:
            raise ValueError("The gallery is empty (scores has 0 columns).")
    relevance = _Relevance(n_queries, n_gallery, relevant, query_labels, gallery_labels)
    return _Ranking(k, scores, indices, relevance)
