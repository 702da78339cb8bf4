"""scikit-learn's estimator checks on every fusion strategy.

Each strategy runs as a ``FusionClassifier`` in the default single-modality
configuration (plain 2-D arrays without ``modality__`` names: all columns
form one modality), with settings small enough for the suite to stay fast.
``FusionRegressor`` shares all of its machinery but the loss and the target
scaling with the classifier, and its strategy-specific part (the module) is
the one the classifiers check, so it runs the suite with ``"concat"`` only;
tests/fusion/test_estimators.py trains it with several strategies.
"""

from __future__ import annotations

import pytest
from sklearn.utils.estimator_checks import (
    check_param_validation,
    parametrize_with_checks,
)

from skmm.fusion import FusionClassifier, FusionRegressor
from skmm.registry import fusions

# Minibatch SGD sees the rows in a seeded random order; duplicating a row
# or giving it weight 2 changes the batches, so the fits differ.
_SGD = (
    "stochastic minibatch training: a doubled weight and a duplicated row "
    "give different batches, hence a different model (as for sklearn's MLP)"
)
EXPECTED_FAILED_CHECKS = {
    "check_sample_weight_equivalence_on_dense_data": _SGD,
    "check_do_not_raise_errors_in_init_or_set_params": (
        "the constructor takes **fusion_params for the 'fusion__<knob>' "
        "settings (as skorch's NeuralNet takes **kwargs); the check passes a "
        "keyword literally named 'fusion_params', which is rejected like any "
        "unexpected keyword (TypeError naming the 'fusion__<knob>' form)"
    ),
}

FAST = dict(
    hidden_dim=8,
    dropout=0.0,
    lr=0.05,
    batch_size=512,
    max_epochs=8,
    random_state=0,
)


def _instances():
    out = []
    for name in fusions.names():
        params = fusions.get(name).get_test_params()[0]
        knobs = {f"fusion__{k}": v for k, v in params.items()}
        out.append(FusionClassifier(fusion=name, **FAST, **knobs))
    out.append(FusionRegressor(fusion="concat", **FAST))
    return out


INSTANCES = _instances()


def _expected_failed_checks(estimator):
    return EXPECTED_FAILED_CHECKS


@parametrize_with_checks(INSTANCES, expected_failed_checks=_expected_failed_checks)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


@pytest.mark.parametrize("Estimator", [FusionClassifier, FusionRegressor])
def test_param_validation(Estimator):
    check_param_validation(Estimator.__name__, Estimator(**FAST))
