"""Retrieval metrics as scikit-learn scorers."""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from skmm.metrics._ranking import (
    mean_average_precision,
    mean_reciprocal_rank,
    median_rank,
    ndcg_at_k,
    recall_at_k,
    true_recall_at_k,
)

__all__ = ["RETRIEVAL_METRICS", "make_retrieval_scorer", "retrieval_score"]

# name -> (function, takes k, k required, sign)
_METRICS: dict[str, tuple[Callable, bool, bool, float]] = {
    "recall": (recall_at_k, True, True, 1.0),
    "true_recall": (true_recall_at_k, True, True, 1.0),
    "mrr": (mean_reciprocal_rank, True, False, 1.0),
    "map": (mean_average_precision, True, False, 1.0),
    "ndcg": (ndcg_at_k, True, True, 1.0),
    "neg_median_rank": (median_rank, False, False, -1.0),
}

RETRIEVAL_METRICS = (
    "recall@K",
    "true_recall@K",
    "mrr",
    "mrr@K",
    "map",
    "map@K",
    "ndcg@K",
    "neg_median_rank",
)
"""The metric names :func:`make_retrieval_scorer` understands (K an int)."""

_NAME = re.compile(r"^(?P<base>[a-z_]+)(?:@(?P<k>\d+))?$")


def _parse_metric(metric: str) -> tuple[Callable, dict, float]:
    if not isinstance(metric, str):
        raise TypeError(f"metric must be a str like 'recall@10', got {metric!r}")
    m = _NAME.match(metric.strip().lower())
    base = m.group("base") if m else None
    if base == "median_rank":
        raise ValueError(
            "Scorers are maximised; use 'neg_median_rank' (the negated median "
            "rank) instead of 'median_rank'."
        )
    if base not in _METRICS:
        raise ValueError(
            f"Unknown retrieval metric {metric!r}. Known: {list(RETRIEVAL_METRICS)}"
        )
    func, takes_k, needs_k, sign = _METRICS[base]
    k = m.group("k")
    if k is not None and not takes_k:
        raise ValueError(f"The metric {base!r} takes no cut-off; got {metric!r}")
    if k is None and needs_k:
        raise ValueError(f"The metric {base!r} needs a cut-off, e.g. '{base}@10'")
    kwargs = {} if k is None else {"k": int(k)}
    if kwargs.get("k") == 0:
        raise ValueError(f"The cut-off must be >= 1, got {metric!r}")
    return func, kwargs, sign


def retrieval_score(
    estimator: Any,
    X: Any,
    y: Any = None,
    *,
    metric: str = "recall@10",
    query: str | None = None,
    target: str | None = None,
) -> float:
    """Score a fitted retriever on the pairs in ``X``.

    The queries are the rows' ``query`` block, the gallery is the same rows'
    ``target`` block; query ``i``'s relevant item is gallery item ``i``, or,
    when ``y`` is given, every row with the same ``y``.  Rows missing either
    modality (NaN) are left out with a warning that counts them.

    Parameters
    ----------
    estimator : fitted retriever
        Anything with ``embed(X, modality=...)`` and ``query`` / ``target``
        attributes (every :mod:`skmm.retrieval` retriever).
    X : DataFrame or array-like
        Rows holding both modality blocks.
    y : array-like, optional
        Group labels; rows with equal labels are relevant to each other.
    metric : str, default="recall@10"
        One of :data:`RETRIEVAL_METRICS`.
    query, target : str, optional
        Direction; by default the retriever's own ``query`` and ``target``.

    Returns
    -------
    float
        Greater is better (``neg_median_rank`` is negated).
    """
    func, kwargs, sign = _parse_metric(metric)
    query = estimator.query if query is None else query
    target = estimator.target if target is None else target
    Q = estimator.embed(X, modality=query)
    G = estimator.embed(X, modality=target)
    keep = np.isfinite(Q).all(axis=1) & np.isfinite(G).all(axis=1)
    n_drop = int((~keep).sum())
    if n_drop:
        from skmm.exceptions import MissingModalityWarning

        warnings.warn(
            f"{n_drop} of {keep.size} rows miss the {query!r} or the {target!r} "
            "modality and are left out of the score.",
            MissingModalityWarning,
            stacklevel=2,
        )
        Q, G = Q[keep], G[keep]
    if Q.shape[0] == 0:
        raise ValueError("No row holds both modalities; nothing to score.")
    S = Q @ G.T
    if y is not None:
        labels = np.asarray(y).ravel()
        if labels.shape[0] != keep.shape[0]:
            raise ValueError(
                f"y has {labels.shape[0]} entries but X has {keep.shape[0]} rows"
            )
        labels = labels[keep]
        kwargs = {**kwargs, "query_labels": labels, "gallery_labels": labels}
    return sign * func(S, **kwargs)


class _RetrievalScorer:
    """Callable ``scorer(estimator, X, y=None)`` for sklearn's model selection."""

    def __init__(self, metric: str, query: str | None, target: str | None):
        _parse_metric(metric)  # fail early on a bad name
        self.metric = metric
        self.query = query
        self.target = target

    def __call__(self, estimator: Any, X: Any, y: Any = None) -> float:
        return retrieval_score(
            estimator, X, y, metric=self.metric, query=self.query, target=self.target
        )

    def __repr__(self) -> str:
        extra = "".join(
            f", {n}={v!r}"
            for n, v in (("query", self.query), ("target", self.target))
            if v is not None
        )
        return f"make_retrieval_scorer({self.metric!r}{extra})"


def make_retrieval_scorer(
    metric: str = "recall@10",
    *,
    query: str | None = None,
    target: str | None = None,
) -> Callable[..., float]:
    """Make a scorer for ``GridSearchCV`` / ``cross_validate`` from a metric name.

    Parameters
    ----------
    metric : str, default="recall@10"
        ``"recall@K"`` (hit rate), ``"true_recall@K"``, ``"mrr"`` /
        ``"mrr@K"``, ``"map"`` / ``"map@K"``, ``"ndcg@K"`` or
        ``"neg_median_rank"`` (negated, since scorers are maximised).
    query, target : str, optional
        Direction scored; by default the retriever's own.  Pass the reverse
        (``query="image", target="text"``) to score the other direction.

    Returns
    -------
    callable
        ``scorer(estimator, X, y=None) -> float``; see
        :func:`retrieval_score`.

    Examples
    --------
    >>> from sklearn.model_selection import GroupKFold, cross_validate
    >>> from skmm.datasets import make_paired_modalities
    >>> from skmm.metrics import make_retrieval_scorer
    >>> from skmm.retrieval import RidgeRetriever
    >>> data = make_paired_modalities(60, random_state=0)
    >>> scoring = {"t2i_r1": make_retrieval_scorer("recall@1"),
    ...            "i2t_r1": make_retrieval_scorer("recall@1", query="image",
    ...                                            target="text")}
    >>> cv = cross_validate(RidgeRetriever(), data.data, cv=3, scoring=scoring)
    >>> bool(cv["test_t2i_r1"].mean() > 0.5)
    True
    """
    return _RetrievalScorer(metric, query, target)
