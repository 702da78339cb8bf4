"""Retrieval metrics: hand-computed cases and a brute-force reference."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from sklearn.exceptions import UndefinedMetricWarning
from sklearn.metrics import average_precision_score, ndcg_score

from skmm.metrics import (
    mean_average_precision,
    mean_reciprocal_rank,
    median_rank,
    ndcg_at_k,
    rank_gallery,
    recall_at_k,
    true_recall_at_k,
)

# --------------------------------------------------------------- reference


def _rank_of(scores_row, j):
    """1-based rank of item j: higher scores first, then lower index first."""
    s = scores_row
    return int(np.sum(s > s[j]) + np.sum(s[:j] == s[j]) + 1)


def _reference(S, R, k):
    """Every metric, per query, by counting (no sorting)."""
    out = {
        "hit": [],
        "true": [],
        "rr": [],
        "rr_k": [],
        "rank": [],
        "ap": [],
        "ap_k": [],
        "ndcg": [],
    }
    for s, r in zip(S, R):
        rel = np.flatnonzero(r)
        if rel.size == 0:
            continue
        ranks = np.sort([_rank_of(s, j) for j in rel])
        first = ranks[0]
        out["hit"].append(float(first <= k))
        out["true"].append(np.sum(ranks <= k) / rel.size)
        out["rr"].append(1.0 / first)
        out["rr_k"].append(1.0 / first if first <= k else 0.0)
        out["rank"].append(first)
        # precision at the rank of the i-th relevant item is i / rank
        prec = np.arange(1, rel.size + 1) / ranks
        out["ap"].append(prec.sum() / rel.size)
        out["ap_k"].append(prec[ranks <= k].sum() / min(rel.size, k))
        dcg = np.sum(1.0 / np.log2(ranks[ranks <= k] + 1))
        idcg = np.sum(1.0 / np.log2(np.arange(1, min(rel.size, k) + 1) + 1))
        out["ndcg"].append(dcg / idcg)
    return {
        "recall": np.mean(out["hit"]),
        "true_recall": np.mean(out["true"]),
        "mrr": np.mean(out["rr"]),
        "mrr_k": np.mean(out["rr_k"]),
        "median_rank": float(np.median(out["rank"])),
        "map": np.mean(out["ap"]),
        "map_k": np.mean(out["ap_k"]),
        "ndcg": np.mean(out["ndcg"]),
    }


def _ours(k, **kw):
    return {
        "recall": recall_at_k(k=k, **kw),
        "true_recall": true_recall_at_k(k=k, **kw),
        "mrr": mean_reciprocal_rank(**kw),
        "mrr_k": mean_reciprocal_rank(k=k, **kw),
        "median_rank": median_rank(**kw),
        "map": mean_average_precision(**kw),
        "map_k": mean_average_precision(k=k, **kw),
        "ndcg": ndcg_at_k(k=k, **kw),
    }


@st.composite
def _problems(draw):
    n_q = draw(st.integers(1, 6))
    n_g = draw(st.integers(1, 9))
    # small integers: many ties, to exercise the tie rule
    S = draw(arrays(np.int8, (n_q, n_g), elements=st.integers(-3, 3))).astype(float)
    R = draw(arrays(np.bool_, (n_q, n_g)))
    # every query gets at least one relevant item
    for i in range(n_q):
        if not R[i].any():
            R[i, draw(st.integers(0, n_g - 1))] = True
    k = draw(st.integers(1, n_g + 2))
    return S, R, k


@settings(max_examples=150, deadline=None)
@given(_problems())
def test_metrics_match_brute_force_reference(problem):
    S, R, k = problem
    ref = _reference(S, R, k)
    ours = _ours(k, scores=S, relevant=R)
    for name in ref:
        assert ours[name] == pytest.approx(ref[name]), name


@settings(max_examples=100, deadline=None)
@given(_problems())
def test_metrics_from_search_results_equal_metrics_from_scores(problem):
    S, R, k = problem
    k = min(k, S.shape[1])
    top = rank_gallery(S, k)
    for func in (recall_at_k, true_recall_at_k, ndcg_at_k):
        assert func(indices=top, relevant=R, k=k) == pytest.approx(func(S, R, k=k))
    assert mean_reciprocal_rank(indices=top, relevant=R) == pytest.approx(
        mean_reciprocal_rank(S, R, k=k)
    )
    assert mean_average_precision(indices=top, relevant=R) == pytest.approx(
        mean_average_precision(S, R, k=k)
    )
    full = rank_gallery(S)
    assert median_rank(indices=full, relevant=R) == median_rank(S, R)


@settings(max_examples=60, deadline=None)
@given(
    st.integers(1, 5).flatmap(
        lambda n_q: st.tuples(
            arrays(np.int64, n_q, elements=st.integers(0, 3)),
            arrays(np.int64, 8, elements=st.integers(0, 3)),
            arrays(np.float64, (n_q, 8), elements=st.floats(-1, 1), unique=True),
        )
    )
)
def test_labels_equal_relevance_matrix(args):
    qlab, glab, S = args
    R = qlab[:, None] == glab[None, :]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        for func in (recall_at_k, true_recall_at_k, ndcg_at_k):
            a = func(S, query_labels=qlab, gallery_labels=glab, k=3)
            b = func(S, R, k=3)
            assert a == pytest.approx(b, nan_ok=True)
        a = mean_average_precision(S, query_labels=qlab, gallery_labels=glab)
        assert a == pytest.approx(mean_average_precision(S, R), nan_ok=True)


@settings(max_examples=60, deadline=None)
@given(
    arrays(np.float64, (4, 7), elements=st.floats(-10, 10), unique=True),
    arrays(np.bool_, (4, 7)),
)
def test_agrees_with_sklearn_without_ties(S, R):
    R[:, 0] = True  # at least one relevant item per query
    expected_ndcg = ndcg_score(R.astype(int), S, k=3)
    assert ndcg_at_k(S, R, k=3) == pytest.approx(expected_ndcg)
    expected_ap = np.mean([average_precision_score(r, s) for r, s in zip(R, S)])
    assert mean_average_precision(S, R) == pytest.approx(expected_ap)


# ------------------------------------------------------------ hand cases

S3 = np.array(
    [
        [0.9, 0.1, 0.3],  # item 0 first   -> rank 1
        [0.8, 0.7, 0.1],  # item 1 second  -> rank 2
        [0.2, 0.6, 0.4],  # item 2 second  -> rank 2
    ]
)


def test_hand_computed_pairing():
    assert recall_at_k(S3, k=1) == pytest.approx(1 / 3)
    assert recall_at_k(S3, k=2) == 1.0
    assert true_recall_at_k(S3, k=1) == pytest.approx(1 / 3)
    assert mean_reciprocal_rank(S3) == pytest.approx((1 + 0.5 + 0.5) / 3)
    assert mean_reciprocal_rank(S3, k=1) == pytest.approx(1 / 3)
    assert median_rank(S3) == 2.0
    assert mean_average_precision(S3) == pytest.approx((1 + 0.5 + 0.5) / 3)
    d = 1 / np.log2(3)
    assert ndcg_at_k(S3, k=2) == pytest.approx((1 + d + d) / 3)


def test_hand_computed_several_relevant_items():
    S = np.array([[0.9, 0.8, 0.7, 0.6, 0.5]])
    R = np.array([[False, True, False, True, True]])  # ranks 2, 4, 5
    assert recall_at_k(S, R, k=1) == 0.0
    assert recall_at_k(S, R, k=2) == 1.0
    assert true_recall_at_k(S, R, k=4) == pytest.approx(2 / 3)
    assert mean_reciprocal_rank(S, R) == 0.5
    assert median_rank(S, R) == 2.0
    assert mean_average_precision(S, R) == pytest.approx((1 / 2 + 2 / 4 + 3 / 5) / 3)
    # AP@2: one hit at rank 2 over min(3, 2) relevant slots
    assert mean_average_precision(S, R, k=2) == pytest.approx((1 / 2) / 2)
    dcg = 1 / np.log2(3) + 1 / np.log2(5)
    idcg = 1 + 1 / np.log2(3) + 1 / np.log2(4)
    assert ndcg_at_k(S, R, k=4) == pytest.approx(dcg / idcg)


def test_ties_rank_lower_gallery_index_first():
    S = np.array([[0.5, 0.5, 0.5]])
    np.testing.assert_array_equal(rank_gallery(S), [[0, 1, 2]])
    assert recall_at_k(S, [[True, False, False]], k=1) == 1.0
    assert recall_at_k(S, [[False, False, True]], k=2) == 0.0
    assert median_rank(S, [[False, False, True]]) == 3.0


def test_nan_scores_rank_last():
    S = np.array([[np.nan, 0.1, -5.0]])
    np.testing.assert_array_equal(rank_gallery(S), [[1, 2, 0]])


def test_search_results_with_missing_entries():
    indices = np.array([[2, -1], [-1, -1]])
    assert recall_at_k(indices=indices, k=2) == 0.0
    labels = np.array([0, 1, 0])
    assert recall_at_k(
        indices=indices, query_labels=[0, 0], gallery_labels=labels, k=2
    ) == pytest.approx(0.5)
    assert median_rank(indices=np.array([[1], [0]])) == np.inf
    assert median_rank(indices=np.array([[0], [1], [0]])) == 1.0


def test_queries_without_relevant_items_are_left_out_with_a_warning():
    S = np.array([[0.9, 0.1], [0.2, 0.8]])
    with pytest.warns(UndefinedMetricWarning, match="1 of 2 queries"):
        value = recall_at_k(S, query_labels=[0, 7], gallery_labels=[0, 1], k=1)
    assert value == 1.0
    with pytest.warns(UndefinedMetricWarning):
        assert np.isnan(recall_at_k(S, [[False, False], [False, False]], k=1))


def test_large_gallery_is_chunked_over_queries(monkeypatch):
    import skmm.metrics._ranking_inputs as ranking

    rng = np.random.default_rng(0)
    S = rng.normal(size=(23, 30))
    R = rng.random((23, 30)) < 0.3
    R[:, 0] = True
    expected = mean_average_precision(S, R)
    monkeypatch.setattr(ranking, "_QUERY_CHUNK", 4)
    assert mean_average_precision(S, R) == expected


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({}, "exactly one"),
        ({"scores": S3, "indices": np.zeros((3, 1), int)}, "exactly one"),
        ({"scores": np.ones(3)}, "2-D"),
        ({"scores": np.ones((2, 0))}, "empty"),
        ({"scores": S3, "k": 0}, "positive int"),
        ({"scores": S3, "relevant": np.ones((2, 3), bool)}, "shape"),
        ({"scores": S3, "relevant": np.ones((3, 2), bool)}, "gallery columns"),
        ({"scores": S3, "query_labels": [0, 1, 2]}, "together"),
        ({"scores": S3, "query_labels": [0, 1], "gallery_labels": [0, 1, 2]}, "3 q"),
        ({"scores": S3[:, :2]}, "n_gallery >= n_queries"),
        ({"indices": np.zeros((3, 2))}, "integer"),
        (
            {"indices": np.full((1, 1), 5), "gallery_labels": [0], "query_labels": [0]},
            "gallery item 5",
        ),
        (
            {
                "scores": S3,
                "relevant": S3 > 0.5,
                "query_labels": [0, 1, 2],
                "gallery_labels": [0, 1, 2],
            },
            "not both",
        ),
    ],
)
def test_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        recall_at_k(**kwargs)
