"""sklearn's estimator checks on every retriever.

The checks feed plain numpy arrays without modality names, so each instance
gets ``modalities={"text": slice(0, 1), "image": slice(1, None)}``: the
first column is the query block, the rest the target block, whatever the
width.
"""

from __future__ import annotations

import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from skmm.registry import retrievers
from skmm.retrieval import (
    CCARetriever,
    ContrastiveRetriever,
    PLSRetriever,
    RidgeRetriever,
)

MODALITIES = {"text": slice(0, 1), "image": slice(1, None)}
# TwoTowerRetriever is left out: it takes raw cells (a DataFrame of texts and
# image cells read by its encoders), not a 2-D numeric array, so sklearn's
# checks do not apply; tests/retrieval/test_two_tower.py covers clone,
# pickle, set_params, random_state and bad input for it.

EXPECTED_FAILED_CHECKS: dict[str, str] = {}


def _instances():
    out = []
    for cls in (RidgeRetriever, CCARetriever, PLSRetriever, ContrastiveRetriever):
        for params in cls.get_test_params():
            out.append(cls(**{**params, "modalities": dict(MODALITIES)}))
    return out


INSTANCES = _instances()


def _expected_failed_checks(estimator):
    return EXPECTED_FAILED_CHECKS


@parametrize_with_checks(INSTANCES, expected_failed_checks=_expected_failed_checks)
def test_sklearn_compatible_retriever(estimator, check):
    check(estimator)


@pytest.mark.parametrize("name", ["ridge", "cca", "pls", "contrastive"])
def test_builtin_retrievers_are_registered(name):
    cls = retrievers.get(name)
    assert any(type(e) is cls for e in INSTANCES)
