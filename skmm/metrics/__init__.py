"""Retrieval metrics and their scikit-learn scorers.

Each metric reads either a score matrix ``(n_queries, n_gallery)`` or the
ranked indices returned by a retriever's or an index's ``search``, with the
relevant items given as a boolean matrix, as labels, or implicitly as the
pairing (query ``i`` <-> gallery item ``i``).  Ties: among equal scores the
lower gallery index ranks first.

- :func:`recall_at_k`: hit rate (CLIP_benchmark's Recall@K);
- :func:`true_recall_at_k`: fraction of relevant items found (AutoGluon's);
- :func:`mean_reciprocal_rank`, :func:`median_rank`,
  :func:`mean_average_precision`, :func:`ndcg_at_k`;
- :func:`make_retrieval_scorer`: any of them for ``GridSearchCV`` and
  ``cross_validate``.

Examples
--------
>>> import numpy as np
>>> from skmm.metrics import recall_at_k, median_rank
>>> S = np.eye(3)[::-1]  # query i scores item 2 - i highest
>>> recall_at_k(S, k=1), median_rank(S)
(0.333..., 2.0)
"""

from __future__ import annotations

from skmm.metrics._ranking import (
    mean_average_precision,
    mean_reciprocal_rank,
    median_rank,
    ndcg_at_k,
    rank_gallery,
    recall_at_k,
    true_recall_at_k,
)
from skmm.metrics._scorer import (
    RETRIEVAL_METRICS,
    make_retrieval_scorer,
    retrieval_score,
)

__all__ = [
    "RETRIEVAL_METRICS",
    "make_retrieval_scorer",
    "mean_average_precision",
    "mean_reciprocal_rank",
    "median_rank",
    "ndcg_at_k",
    "rank_gallery",
    "recall_at_k",
    "retrieval_score",
    "true_recall_at_k",
]
