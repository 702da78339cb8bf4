"""The one place that touches scikit-learn's private helpers.

An sklearn release that moves them breaks this file, not ten.
"""

from __future__ import annotations

from sklearn.base import _fit_context
from sklearn.model_selection._search import BaseSearchCV
from sklearn.utils import _safe_indexing
from sklearn.utils._param_validation import (
    HasMethods,
    Interval,
    Options,
    StrOptions,
    validate_params,
)
from sklearn.utils.validation import (
    _check_feature_names,
    _check_feature_names_in,
    _check_method_params,
    _check_n_features,
    _get_feature_names,
    check_is_fitted,
    validate_data,
)

__all__ = [
    "BaseSearchCV",
    "_check_method_params",
    "_safe_indexing",
    "HasMethods",
    "Interval",
    "Options",
    "StrOptions",
    "_check_feature_names",
    "_check_feature_names_in",
    "_check_n_features",
    "_fit_context",
    "_get_feature_names",
    "check_is_fitted",
    "validate_data",
    "validate_params",
]
