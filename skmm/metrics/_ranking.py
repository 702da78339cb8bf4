"""Retrieval metrics from a score matrix or from ranked search results.

Every metric takes one of two inputs:

- a **score matrix** ``scores`` of shape ``(n_queries, n_gallery)`` (higher
  is better); the gallery is ranked per query by decreasing score, and
  **among equal scores the lower gallery index ranks first** (a stable sort
  of the negated scores; a NaN score counts as ``-inf``).
  :class:`skmm.retrieval.ExactIndex` follows the same rule, so metrics
  computed from its search results equal those from the full score matrix;
- **ranked indices** ``indices`` of shape ``(n_queries, k)`` as returned by
  ``search`` (best first; ``-1`` marks "no result").  Items beyond the list
  count as not retrieved.

and one relevance specification:

- ``relevant``: a boolean matrix ``(n_queries, n_gallery)``;
- ``query_labels`` and ``gallery_labels``: an item is relevant to a query
  when their labels are equal (e.g. the concept both rows show);
- neither: the *pairing* — query ``i``'s only relevant item is gallery item
  ``i`` (rows of one table, as in :meth:`~skmm.retrieval.RidgeRetriever.score`).

Queries with no relevant item in the gallery are left out of the average
with an :class:`~sklearn.exceptions.UndefinedMetricWarning`.

Each metric first calls ``_check_ranking``, the one place that checks
and normalises these arguments (as sklearn's ``_check_targets`` serves its
classification metrics), and then reduces the hits of each query's ranked
list with its own statistic.  The public names are listed in
``skmm.metrics.__all__``.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
from sklearn.exceptions import UndefinedMetricWarning

# queries per block when ranking a score matrix: bounds the int64 order
# matrix to _QUERY_CHUNK * n_gallery entries
_QUERY_CHUNK = 1024

# the Parameters entries every metric shares (see _shares_inputs_doc)
_INPUTS_DOC = """\
    scores : array-like of shape (n_queries, n_gallery), optional
        Similarity scores, higher is better.  Give this or ``indices``.
    relevant : array-like of bool, shape (n_queries, n_gallery), optional
        ``relevant[i, j]`` says gallery item ``j`` is relevant to query ``i``.
    query_labels, gallery_labels : array-like, optional
        Relevant means equal labels.  Without ``relevant`` and labels, query
        ``i``'s only relevant item is gallery item ``i``.
    indices : array-like of int, shape (n_queries, n_ranked), optional
        Ranked gallery indices, best first (``search``'s first output);
        ``-1`` is "no result".
"""

# stat(hits, n_relevant): per-query values from the hits of a block of
# queries' ranked lists (bool, best first) and their numbers of relevant items
_Stat = Callable[[np.ndarray, np.ndarray], np.ndarray]


def _shares_inputs_doc(metric: Callable) -> Callable:
    """Put the shared input parameters in place of ``metric``'s
    ``{inputs}`` line."""
    if metric.__doc__:  # None under python -OO
        metric.__doc__ = metric.__doc__.replace("    {inputs}\n", _INPUTS_DOC)
    return metric


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


def _first_rank(hits: np.ndarray) -> np.ndarray:
    """1-based rank of the first hit, inf when there is none."""
    any_hit = hits.any(axis=1)
    first = hits.argmax(axis=1).astype(np.float64) + 1.0
    return np.where(any_hit, first, np.inf)


# ---------------------------------------------------------------- metrics
@_shares_inputs_doc
def recall_at_k(
    scores: Any = None,
    relevant: Any = None,
    *,
    k: int = 10,
    query_labels: Any = None,
    gallery_labels: Any = None,
    indices: Any = None,
) -> float:
    """Hit rate at ``k``: the fraction of queries with a relevant item in the top k.

    This is the "Recall@K" of CLIP_benchmark and of most image-text
    retrieval papers: a query counts as a hit when *any* of its relevant
    items is ranked in the first ``k``.  For the fraction of the relevant
    items found, see :func:`true_recall_at_k`.

    Parameters
    ----------
    {inputs}
    k : int, default=10
        Cut-off.

    Returns
    -------
    float
        In ``[0, 1]``.

    Examples
    --------
    >>> import numpy as np
    >>> S = np.array([[0.9, 0.1, 0.3],
    ...               [0.8, 0.7, 0.1],
    ...               [0.2, 0.6, 0.4]])
    >>> recall_at_k(S, k=1)  # pairing: query i <-> item i; only query 0 hits
    0.333...
    >>> recall_at_k(S, k=2)
    1.0
    >>> recall_at_k(indices=np.array([[0, 2], [0, 2], [1, 2]]), k=2)
    0.666...
    """
    r = _check_ranking(scores, relevant, query_labels, gallery_labels, indices, k)
    return r.average(lambda hits, n: hits[:, : r.k].any(axis=1), "recall_at_k")


@_shares_inputs_doc
def true_recall_at_k(
    scores: Any = None,
    relevant: Any = None,
    *,
    k: int = 10,
    query_labels: Any = None,
    gallery_labels: Any = None,
    indices: Any = None,
) -> float:
    """Recall at ``k``: the fraction of each query's relevant items in its top k.

    AutoGluon's definition (``|relevant ∩ top-k| / |relevant|``), averaged
    over queries.  With one relevant item per query it equals
    :func:`recall_at_k`.

    Parameters
    ----------
    {inputs}
    k : int, default=10
        Cut-off.

    Returns
    -------
    float
        In ``[0, 1]``.

    Examples
    --------
    >>> import numpy as np
    >>> S = np.array([[0.9, 0.8, 0.1, 0.0]])
    >>> true_recall_at_k(S, query_labels=[1], gallery_labels=[1, 0, 1, 1], k=2)
    0.333...
    >>> recall_at_k(S, query_labels=[1], gallery_labels=[1, 0, 1, 1], k=2)
    1.0
    """
    r = _check_ranking(scores, relevant, query_labels, gallery_labels, indices, k)

    def found(hits: np.ndarray, n_relevant: np.ndarray) -> np.ndarray:
        return hits[:, : r.k].sum(axis=1) / np.maximum(n_relevant, 1)

    return r.average(found, "true_recall_at_k")


@_shares_inputs_doc
def mean_reciprocal_rank(
    scores: Any = None,
    relevant: Any = None,
    *,
    k: int | None = None,
    query_labels: Any = None,
    gallery_labels: Any = None,
    indices: Any = None,
) -> float:
    """Mean over queries of ``1 / rank`` of the first relevant item.

    Parameters
    ----------
    {inputs}
    k : int, optional
        Count only the first ``k`` ranks (MRR@k): a query whose first
        relevant item is ranked after ``k`` (or not in ``indices``)
        contributes 0.

    Returns
    -------
    float
        In ``[0, 1]``.

    Examples
    --------
    >>> import numpy as np
    >>> S = np.array([[0.9, 0.1, 0.3],
    ...               [0.8, 0.7, 0.1],
    ...               [0.2, 0.6, 0.4]])
    >>> mean_reciprocal_rank(S)  # ranks 1, 2, 2
    0.666...
    """
    r = _check_ranking(
        scores, relevant, query_labels, gallery_labels, indices, k, k_required=False
    )
    return r.average(lambda hits, n: 1.0 / _first_rank(hits), "mean_reciprocal_rank")


@_shares_inputs_doc
def median_rank(
    scores: Any = None,
    relevant: Any = None,
    *,
    query_labels: Any = None,
    gallery_labels: Any = None,
    indices: Any = None,
) -> float:
    """Median over queries of the (1-based) rank of the first relevant item.

    Lower is better; 1 is perfect.  From ``indices``, a query with no
    relevant item in its list has rank ``inf`` (so the median may be
    ``inf`` when most queries miss).

    Parameters
    ----------
    {inputs}

    Returns
    -------
    float

    Examples
    --------
    >>> import numpy as np
    >>> S = np.array([[0.9, 0.1, 0.3],
    ...               [0.8, 0.7, 0.1],
    ...               [0.2, 0.6, 0.4]])
    >>> median_rank(S)  # ranks 1, 2, 2
    2.0
    """
    r = _check_ranking(
        scores, relevant, query_labels, gallery_labels, indices, k_required=False
    )
    return r.average(lambda hits, n: _first_rank(hits), "median_rank", how=np.median)


@_shares_inputs_doc
def mean_average_precision(
    scores: Any = None,
    relevant: Any = None,
    *,
    k: int | None = None,
    query_labels: Any = None,
    gallery_labels: Any = None,
    indices: Any = None,
) -> float:
    """Mean over queries of the average precision (mAP, or mAP@k).

    ``AP = sum_r P@r * rel_r / n_relevant`` over the ranked gallery.  With
    ``k`` (or from ``indices``, whose length is then the cut-off) the sum
    stops at rank ``k`` and the denominator is ``min(n_relevant, k)``, so a
    perfect top-k list scores 1.

    Parameters
    ----------
    {inputs}
    k : int, optional
        Cut-off (mAP@k).

    Returns
    -------
    float
        In ``[0, 1]``.

    Examples
    --------
    >>> import numpy as np
    >>> S = np.array([[0.9, 0.8, 0.7, 0.6]])
    >>> mean_average_precision(S, relevant=[[True, False, True, False]])
    0.833...
    """
    r = _check_ranking(
        scores, relevant, query_labels, gallery_labels, indices, k, k_required=False
    )
    cut = r.k if r.k is not None else r.n_ranked

    def average_precision(hits: np.ndarray, n_relevant: np.ndarray) -> np.ndarray:
        h = hits.astype(np.float64)
        precision = np.cumsum(h, axis=1) / np.arange(1, h.shape[1] + 1)
        denom = n_relevant if cut is None else np.minimum(n_relevant, cut)
        return (precision * h).sum(axis=1) / np.maximum(denom, 1)

    return r.average(average_precision, "mean_average_precision")


@_shares_inputs_doc
def ndcg_at_k(
    scores: Any = None,
    relevant: Any = None,
    *,
    k: int = 10,
    query_labels: Any = None,
    gallery_labels: Any = None,
    indices: Any = None,
) -> float:
    """Normalised discounted cumulative gain at ``k``, binary relevance.

    ``DCG@k = sum_{r<=k} rel_r / log2(r + 1)``, divided by the DCG of a
    perfect ranking (``min(n_relevant, k)`` hits first).

    Parameters
    ----------
    {inputs}
    k : int, default=10
        Cut-off.

    Returns
    -------
    float
        In ``[0, 1]``.

    Examples
    --------
    >>> import numpy as np
    >>> S = np.array([[0.9, 0.8, 0.7]])
    >>> round(ndcg_at_k(S, relevant=[[False, True, False]], k=3), 4)  # 1/log2(3)
    0.6309
    """
    r = _check_ranking(scores, relevant, query_labels, gallery_labels, indices, k)
    discounts = 1.0 / np.log2(np.arange(r.k) + 2.0)
    ideal = np.concatenate([[0.0], np.cumsum(discounts)])

    def ndcg(hits: np.ndarray, n_relevant: np.ndarray) -> np.ndarray:
        dcg = hits.astype(np.float64) @ discounts[: hits.shape[1]]
        idcg = ideal[np.minimum(n_relevant, r.k)]
        return dcg / np.where(idcg > 0, idcg, 1.0)

    return r.average(ndcg, "ndcg_at_k")
