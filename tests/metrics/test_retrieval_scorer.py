"""make_retrieval_scorer with GridSearchCV / cross_validate and grouped splits."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.model_selection import GridSearchCV, GroupKFold, cross_validate

from skmm.datasets import make_paired_modalities
from skmm.metrics import (
    RETRIEVAL_METRICS,
    make_retrieval_scorer,
    mean_reciprocal_rank,
    median_rank,
    recall_at_k,
)
from skmm.retrieval import MissingModalityWarning, RidgeRetriever


@pytest.fixture(scope="module")
def paired():
    return make_paired_modalities(
        120, latent_dim=4, noise=0.3, n_groups=12, random_state=0
    )


@pytest.fixture(scope="module")
def fitted(paired):
    return RidgeRetriever().fit(paired.data)


def test_scorer_equals_metric_on_the_embeddings(paired, fitted):
    X = paired.data
    S = fitted.embed(X, modality="text") @ fitted.embed(X, modality="image").T
    assert make_retrieval_scorer("recall@5")(fitted, X) == pytest.approx(
        recall_at_k(S, k=5)
    )
    scorer = make_retrieval_scorer("neg_median_rank")
    assert scorer(fitted, X) == -median_rank(S)
    # y groups: every row of the group is relevant
    g = paired.groups
    assert make_retrieval_scorer("recall@1")(fitted, X, g) == pytest.approx(
        recall_at_k(S, query_labels=g, gallery_labels=g, k=1)
    )
    assert fitted.score(X) == pytest.approx(recall_at_k(S, k=10))


def test_reverse_direction(paired, fitted):
    X = paired.data
    S = fitted.embed(X, modality="image") @ fitted.embed(X, modality="text").T
    scorer = make_retrieval_scorer("mrr", query="image", target="text")
    assert scorer(fitted, X) == pytest.approx(mean_reciprocal_rank(S))
    assert "query='image'" in repr(scorer)


@pytest.mark.parametrize(
    "name", ["recall@1", "true_recall@3", "mrr", "mrr@5", "map", "map@5", "ndcg@10"]
)
def test_every_metric_name_scores_in_unit_interval(paired, fitted, name):
    value = make_retrieval_scorer(name)(fitted, paired.data)
    assert 0.0 <= value <= 1.0


def test_cross_validate_with_grouped_splits(paired):
    scoring = {
        "r1": make_retrieval_scorer("recall@1"),
        "i2t_r1": make_retrieval_scorer("recall@1", query="image", target="text"),
        "mrr": make_retrieval_scorer("mrr"),
    }
    cv = cross_validate(
        RidgeRetriever(),
        paired.data,
        groups=paired.groups,
        cv=GroupKFold(n_splits=3),
        scoring=scoring,
    )
    assert cv["test_r1"].shape == (3,)
    assert (cv["test_mrr"] >= cv["test_r1"]).all()


def test_grid_search_uses_score_by_default(paired):
    search = GridSearchCV(
        RidgeRetriever(), {"n_components": [1, None]}, cv=GroupKFold(n_splits=2)
    )
    search.fit(paired.data, groups=paired.groups)
    assert search.best_params_ == {"n_components": None}
    # y passed to fit is the relevance grouping at score time
    search.fit(paired.data, paired.groups, groups=paired.groups)
    assert search.best_score_ >= 0.9


def test_rows_missing_a_modality_are_left_out_of_the_score(paired, fitted):
    X = paired.data.copy()
    X.iloc[:5, :3] = np.nan  # text block of 5 rows
    with pytest.warns(MissingModalityWarning, match="5 of 120 rows"):
        value = make_retrieval_scorer("recall@5")(fitted, X)
    S_full = fitted.embed(X, "text")[5:] @ fitted.embed(X, "image")[5:].T
    assert value == pytest.approx(recall_at_k(S_full, k=5))


@pytest.mark.parametrize(
    "name, match",
    [
        ("recall", "needs a cut-off"),
        ("median_rank", "neg_median_rank"),
        ("neg_median_rank@3", "takes no cut-off"),
        ("precision@3", "Unknown"),
        ("recall@0", ">= 1"),
    ],
)
def test_bad_metric_names(name, match):
    with pytest.raises(ValueError, match=match):
        make_retrieval_scorer(name)


def test_metric_names_listed():
    assert "recall@K" in RETRIEVAL_METRICS
