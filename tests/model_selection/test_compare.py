from __future__ import annotations

import numpy as np
import pytest
from scipy import stats
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.datasets import load_iris
from sklearn.dummy import DummyClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import KFold

from skmm.model_selection import compare_models, corrected_ttest, plot_fold_scores


def test_corrected_ttest_matches_a_hand_computation():
    a = np.array([0.81, 0.79, 0.84, 0.80, 0.83, 0.78, 0.82, 0.85, 0.80, 0.81])
    b = np.array([0.78, 0.80, 0.80, 0.77, 0.80, 0.77, 0.80, 0.81, 0.79, 0.78])
    n_train, n_test = 900, 100
    # by hand: d = a - b, var with ddof=1, variance inflated by n_test/n_train
    d = a - b
    mean = d.sum() / 10
    var = ((d - mean) ** 2).sum() / 9
    t_hand = mean / np.sqrt((1 / 10 + 100 / 900) * var)
    p_hand = 2 * (1 - stats.t.cdf(abs(t_hand), df=9))
    t, p = corrected_ttest(a, b, n_train, n_test)
    assert t == pytest.approx(t_hand, rel=1e-12)
    assert p == pytest.approx(p_hand, rel=1e-9)
    # the correction makes it more conservative than the plain paired t-test
    assert p > stats.ttest_rel(a, b).pvalue
    assert corrected_ttest(b, a, n_train, n_test)[0] == pytest.approx(-t)


def test_corrected_ttest_edge_cases():
    t, p = corrected_ttest([0.5, 0.5], [0.5, 0.5], 10, 5)
    assert t == 0 and np.isnan(p)
    t, p = corrected_ttest([0.6, 0.6], [0.5, 0.5], 10, 5)
    assert t == np.inf and np.isnan(p)
    with pytest.raises(ValueError, match="same length"):
        corrected_ttest([1, 2], [1, 2, 3], 10, 5)
    with pytest.raises(ValueError, match="at least 2 folds"):
        corrected_ttest([1], [1], 10, 5)


_LOG: dict[str, list] = {}


class _Recorder(ClassifierMixin, BaseEstimator):
    """Remembers the rows it was fitted on (in a module-level log: clone
    deep-copies parameters)."""

    def __init__(self, name="x"):
        self.name = name

    def fit(self, X, y):
        _LOG.setdefault(self.name, []).append(tuple(np.asarray(X)[:, 0].round(6)))
        self.classes_ = np.unique(y)
        return self

    def predict(self, X):
        return np.full(len(X), self.classes_[0])


def test_every_model_sees_the_same_folds():
    X, y = load_iris(return_X_y=True)
    _LOG.clear()
    compare_models(
        {"a": _Recorder("a"), "b": _Recorder("b")},
        X,
        y,
        cv=KFold(4, shuffle=True, random_state=0),
    )
    assert len(_LOG["a"]) == 4 and _LOG["a"] == _LOG["b"]


def test_table_columns_order_and_t_test(tmp_path):
    X, y = load_iris(return_X_y=True)
    table = compare_models(
        [DummyClassifier(), LogisticRegression(max_iter=500)],
        X,
        y,
        cv=5,
        scoring=["accuracy", "f1_macro"],
        plot=tmp_path / "box.png",
    )
    assert list(table.index) == ["LogisticRegression", "DummyClassifier"]
    for col in (
        "mean_accuracy",
        "std_accuracy",
        "mean_f1_macro",
        "std_f1_macro",
        "mean_fit_time",
        "mean_score_time",
        "t_stat",
        "p_value",
    ):
        assert col in table.columns
    assert np.isnan(table.loc["LogisticRegression", "p_value"])
    folds = table.attrs["fold_scores"]["accuracy"]
    assert folds.shape == (5, 2)
    t, p = corrected_ttest(
        folds["LogisticRegression"],
        folds["DummyClassifier"],
        table.attrs["n_train"],
        table.attrs["n_test"],
    )
    assert table.loc["DummyClassifier", "p_value"] == pytest.approx(p)
    assert table.loc["DummyClassifier", "t_stat"] == pytest.approx(t) and t > 5
    assert table.loc["LogisticRegression", "mean_accuracy"] == pytest.approx(
        folds["LogisticRegression"].mean()
    )
    png = (tmp_path / "box.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5000
    out = plot_fold_scores(table, tmp_path / "f1.svg", metric="f1_macro")
    assert out.read_text().lstrip().startswith("<?xml")


def test_bad_estimators_argument():
    X, y = load_iris(return_X_y=True)
    with pytest.raises(TypeError, match="dict name -> estimator"):
        compare_models(LogisticRegression(), X, y)
    with pytest.raises(ValueError, match="not unique"):
        compare_models([("a", DummyClassifier()), ("a", DummyClassifier())], X, y)
