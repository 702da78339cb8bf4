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

Each metric first calls ``_check_ranking`` (``_ranking_inputs.py``), the one
place that checks and normalises these arguments, and then reduces the hits
of each query's ranked list with its own statistic.  The metrics with a
cut-off are written as that statistic alone, under :func:`_ranking_metric`,
which gives them their one shared signature.  The public names are listed in
``skmm.metrics.__all__``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from skmm.metrics._ranking_inputs import _check_ranking, _Ranking, _Stat

# the ranking rule every metric uses, exported with them
from skmm.metrics._ranking_inputs import rank_gallery as rank_gallery
from skmm.utils._docs import fill_doc

# the Parameters entries every metric shares: its ``{inputs}`` line
_RANKING_DOCS = {
    "inputs": """\
scores : array-like of shape (n_queries, n_gallery), optional
    Similarity scores, higher is better.  Give this or ``indices``.
relevant : array-like of bool, shape (n_queries, n_gallery), optional
    ``relevant[i, j]`` says gallery item ``j`` is relevant to query ``i``.
query_labels, gallery_labels : array-like, optional
    Relevant means equal labels.  Without ``relevant`` and labels, query
    ``i``'s only relevant item is gallery item ``i``.
indices : array-like of int, shape (n_queries, n_ranked), optional
    Ranked gallery indices, best first (``search``'s first output);
    ``-1`` is "no result".""",
    # the Parameters section of the metrics with a required cut-off
    "cutoff_parameters": """\
Parameters
----------
{inputs}
k : int, default=10
    Cut-off.""",
    "unit_returns": """\
Returns
-------
float
    In ``[0, 1]``.""",
}


def _ranking_metric(
    k: int | None, *, how: Callable = np.mean
) -> Callable[[Callable[[_Ranking], _Stat]], Callable[..., float]]:
    """Make a public metric from its per-query statistic.

    The decorated function takes the checked arguments (a ``_Ranking``) and
    returns ``stat(hits, n_relevant)``; its name and docstring become the
    metric's.  ``k`` is the metric's default cut-off: an int makes the
    cut-off required (``k: int``), None optional (``k: int | None``).
    """

    def make(statistic: Callable[[_Ranking], _Stat]) -> Callable[..., float]:
        name = statistic.__name__
        k_default = k

        def metric(
            scores: Any = None,
            relevant: Any = None,
            *,
            k: int | None = k_default,
            query_labels: Any = None,
            gallery_labels: Any = None,
            indices: Any = None,
        ) -> float:
            r = _check_ranking(
                scores,
                relevant,
                query_labels,
                gallery_labels,
                indices,
                k,
                k_required=k_default is not None,
            )
            return r.average(statistic(r), name, how=how)

        metric.__name__ = metric.__qualname__ = name
        metric.__module__ = statistic.__module__
        metric.__doc__ = fill_doc(_RANKING_DOCS)(statistic).__doc__
        if k_default is not None:
            metric.__annotations__["k"] = "int"
        return metric

    return make


def _first_rank(hits: np.ndarray) -> np.ndarray:
    """1-based rank of the first hit, inf when there is none."""
    any_hit = hits.any(axis=1)
    first = hits.argmax(axis=1).astype(np.float64) + 1.0
    return np.where(any_hit, first, np.inf)


# ---------------------------------------------------------------- metrics
@_ranking_metric(k=10)
def recall_at_k(r: _Ranking) -> _Stat:
    """Hit rate at ``k``: the fraction of queries with a relevant item in the top k.

    This is the "Recall@K" of CLIP_benchmark and of most image-text
    retrieval papers: a query counts as a hit when *any* of its relevant
    items is ranked in the first ``k``.  For the fraction of the relevant
    items found, see :func:`true_recall_at_k`.

    {cutoff_parameters}

    {unit_returns}

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
    return lambda hits, n_relevant: hits[:, : r.k].any(axis=1)


@_ranking_metric(k=10)
def true_recall_at_k(r: _Ranking) -> _Stat:
    """Recall at ``k``: the fraction of each query's relevant items in its top k.

    AutoGluon's definition (``|relevant ∩ top-k| / |relevant|``), averaged
    over queries.  With one relevant item per query it equals
    :func:`recall_at_k`.

    {cutoff_parameters}

    {unit_returns}

    Examples
    --------
    >>> import numpy as np
    >>> S = np.array([[0.9, 0.8, 0.1, 0.0]])
    >>> true_recall_at_k(S, query_labels=[1], gallery_labels=[1, 0, 1, 1], k=2)
    0.333...
    >>> recall_at_k(S, query_labels=[1], gallery_labels=[1, 0, 1, 1], k=2)
    1.0
    """
    return lambda hits, n_relevant: (
        hits[:, : r.k].sum(axis=1) / np.maximum(n_relevant, 1)
    )


@_ranking_metric(k=None)
def mean_reciprocal_rank(r: _Ranking) -> _Stat:
    """Mean over queries of ``1 / rank`` of the first relevant item.

    Parameters
    ----------
    {inputs}
    k : int, optional
        Count only the first ``k`` ranks (MRR@k): a query whose first
        relevant item is ranked after ``k`` (or not in ``indices``)
        contributes 0.

    {unit_returns}

    Examples
    --------
    >>> import numpy as np
    >>> S = np.array([[0.9, 0.1, 0.3], [0.8, 0.7, 0.1], [0.2, 0.6, 0.4]])
    >>> mean_reciprocal_rank(S)  # ranks 1, 2, 2
    0.666...
    """
    return lambda hits, n_relevant: 1.0 / _first_rank(hits)


@fill_doc(_RANKING_DOCS)
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
    >>> median_rank(np.array([[0.9, 0.1], [0.8, 0.7]]))  # ranks 1, 2
    1.5
    """
    r = _check_ranking(
        scores, relevant, query_labels, gallery_labels, indices, k_required=False
    )
    return r.average(lambda hits, n: _first_rank(hits), "median_rank", how=np.median)


@_ranking_metric(k=None)
def mean_average_precision(r: _Ranking) -> _Stat:
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

    {unit_returns}

    Examples
    --------
    >>> import numpy as np
    >>> S = np.array([[0.9, 0.8, 0.7, 0.6]])
    >>> mean_average_precision(S, relevant=[[True, False, True, False]])
    0.833...
    """
    cut = r.k if r.k is not None else r.n_ranked

    def average_precision(hits: np.ndarray, n_relevant: np.ndarray) -> np.ndarray:
        h = hits.astype(np.float64)
        precision = np.cumsum(h, axis=1) / np.arange(1, h.shape[1] + 1)
        denom = n_relevant if cut is None else np.minimum(n_relevant, cut)
        return (precision * h).sum(axis=1) / np.maximum(denom, 1)

    return average_precision


@_ranking_metric(k=10)
def ndcg_at_k(r: _Ranking) -> _Stat:
    """Normalised discounted cumulative gain at ``k``, binary relevance.

    ``DCG@k = sum_{r<=k} rel_r / log2(r + 1)``, divided by the DCG of a
    perfect ranking (``min(n_relevant, k)`` hits first).

    {cutoff_parameters}

    {unit_returns}

    Examples
    --------
    >>> import numpy as np
    >>> S = np.array([[0.9, 0.8, 0.7]])
    >>> round(ndcg_at_k(S, relevant=[[False, True, False]], k=3), 4)  # 1/log2(3)
    0.6309
    """
    discounts = 1.0 / np.log2(np.arange(r.k) + 2.0)
    ideal = np.concatenate([[0.0], np.cumsum(discounts)])

    def ndcg(hits: np.ndarray, n_relevant: np.ndarray) -> np.ndarray:
        dcg = hits.astype(np.float64) @ discounts[: hits.shape[1]]
        idcg = ideal[np.minimum(n_relevant, r.k)]
        return dcg / np.where(idcg > 0, idcg, 1.0)

    return ndcg
