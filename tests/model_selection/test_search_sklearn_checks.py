"""sklearn's estimator checks on FusionSearchCV (a tiny, in-memory search)."""

from __future__ import annotations

import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

pytest.importorskip("optuna")

from skmm.fusion import FusionClassifier, FusionRegressor  # noqa: E402
from skmm.model_selection import FusionSearchCV  # noqa: E402


def _search(est):
    return FusionSearchCV(
        est,
        {"fusion": ["concat", "late"], "lr": [1e-2]},
        n_trials=2,
        cv=2,
        storage=None,
        pruner=None,
        random_state=0,
    )


INSTANCES = [
    _search(FusionClassifier(max_epochs=2, random_state=0, device="cpu")),
    _search(FusionRegressor(max_epochs=2, random_state=0, device="cpu")),
]

_EXPECTED: dict[str, str] = {}


def _expected_failed_checks(estimator):
    return _EXPECTED


@parametrize_with_checks(INSTANCES, expected_failed_checks=_expected_failed_checks)
def test_sklearn_checks(estimator, check):
    check(estimator)
