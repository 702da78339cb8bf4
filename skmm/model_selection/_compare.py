"""compare_models: the same folds for every candidate, mean/std per metric and
the corrected resampled t-test (Nadeau & Bengio, 2003) against the best."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["compare_models", "corrected_ttest", "plot_fold_scores"]


def corrected_ttest(
    scores_a: Any, scores_b: Any, n_train: float, n_test: float
) -> tuple[float, float]:
    """Corrected resampled t-test of two models scored on the same folds.

    Fold scores are not independent (the training sets overlap), so the
    plain paired t-test is too confident.  Nadeau & Bengio (2003) inflate
    the variance of the differences ``d_j = a_j - b_j`` by the ratio of test
    to training rows::

        t = mean(d) / sqrt((1 / J + n_test / n_train) * var(d, ddof=1))

    with ``J - 1`` degrees of freedom (``J`` folds).

    Parameters
    ----------
    scores_a, scores_b : array-like of shape (n_folds,)
        Fold scores of the two models, fold by fold.
    n_train, n_test : float
        Rows per training and per test fold (averages for unequal folds).

    Returns
    -------
    t_stat : float
        Positive when ``a`` scores higher.
    p_value : float
        Two-sided p-value (NaN when all differences are equal: the test is
        undefined).

    Examples
    --------
    >>> t, p = corrected_ttest([0.9, 0.85, 0.88, 0.91, 0.87],
    ...                        [0.8, 0.82, 0.79, 0.84, 0.80], 80, 20)
    >>> round(t, 2), round(p, 4)
    (4.0, 0.0161)
    """
    from scipy import stats

    a = np.asarray(scores_a, dtype=float)
    b = np.asarray(scores_b, dtype=float)
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError(
            f"scores_a and scores_b must be 1-D and of the same length; got "
            f"shapes {a.shape} and {b.shape}."
        )
    if len(a) < 2:
        raise ValueError("The corrected t-test needs at least 2 folds.")
    if n_train <= 0 or n_test <= 0:
        raise ValueError("n_train and n_test must be positive.")
    d = a - b
    k = len(d)
    var = np.var(d, ddof=1)
    if var == 0:
        return (0.0 if d.mean() == 0 else float(np.sign(d.mean()) * np.inf)), np.nan
    corrected = (1.0 / k + n_test / n_train) * var
    t = float(d.mean() / np.sqrt(corrected))
    p = float(2 * stats.t.sf(abs(t), df=k - 1))
    return t, p


def _named(estimators: Any) -> list[tuple[str, Any]]:
    if isinstance(estimators, Mapping):
        items = list(estimators.items())
    elif isinstance(estimators, Sequence) and not isinstance(estimators, str):
        items = []
        counts: dict[str, int] = {}
        for item in estimators:
            if isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str):
                items.append(item)
                continue
            base = type(item).__name__
            counts[base] = counts.get(base, 0) + 1
            items.append(
                (base if counts[base] == 1 else f"{base}_{counts[base]}", item)
            )
    else:
        raise TypeError(
            "estimators must be a dict name -> estimator, or a list of estimators "
            f"or of (name, estimator) pairs; got {type(estimators).__name__}."
        )
    if len(items) < 1:
        raise ValueError("compare_models needs at least one estimator.")
    names = [n for n, _ in items]
    if len(set(names)) != len(names):
        raise ValueError(f"The estimator names are not unique: {names}")
    return items


def compare_models(
    estimators: Any,
    X: Any,
    y: Any = None,
    *,
    cv: Any = 5,
    scoring: Any = None,
    groups: Any = None,
    n_jobs: int | None = None,
    plot: str | Path | None = None,
    verbose: int = 0,
    **fit_params: Any,
) -> Any:
    """Cross-validate several models on the same folds and compare them.

    Parameters
    ----------
    estimators : dict or list
        ``name -> estimator``, or a list of estimators (named after their
        class) or of ``(name, estimator)`` pairs.
    X, y : array-like
        The data.
    cv : int, splitter or iterable, default=5
        Resolved once (stratified for classifiers) and the same splits used
        for every model.
    scoring : str, callable, list or dict, default=None
        As in ``cross_validate``; the first metric is the one the t-test and
        the ranking use.
    groups : array-like, optional
        Group labels for group splitters.
    n_jobs : int, optional
        Folds fitted in parallel per model (``cross_validate``'s ``n_jobs``).
    plot : path, optional
        Save a box plot of the fold scores (first metric) to this file
        (needs matplotlib).
    verbose : int, default=0
        ``1`` prints one line per model.
    **fit_params
        Passed to every ``fit``.

    Returns
    -------
    pandas.DataFrame
        One row per model, best first: ``mean_<metric>``, ``std_<metric>``
        for each metric, ``mean_fit_time``, ``mean_score_time``, and against
        the best model on the first metric ``t_stat`` and ``p_value``
        (:func:`corrected_ttest`; NaN on the best row).  ``.attrs`` holds
        ``"fold_scores"`` (metric -> DataFrame, folds x models), ``"best"``,
        ``"metric"``, ``"n_train"`` and ``"n_test"``.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.dummy import DummyClassifier
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skmm.model_selection import compare_models
    >>> X, y = load_iris(return_X_y=True)
    >>> table = compare_models({"logreg": LogisticRegression(max_iter=500),
    ...                         "dummy": DummyClassifier()}, X, y, cv=5)
    >>> list(table.index)
    ['logreg', 'dummy']
    >>> bool(table.loc["dummy", "p_value"] < 0.01)
    True
    """
    import pandas as pd
    from sklearn.base import is_classifier
    from sklearn.metrics import check_scoring
    from sklearn.model_selection import check_cv, cross_validate
    from sklearn.utils import indexable

    items = _named(estimators)
    X, y, groups = indexable(X, y, groups)
    splitter = check_cv(cv, y, classifier=is_classifier(items[0][1]))
    splits = list(splitter.split(X, y, groups))
    n_train = float(np.mean([len(tr) for tr, _ in splits]))
    n_test = float(np.mean([len(te) for _, te in splits]))

    if scoring is None or callable(scoring) or isinstance(scoring, str):
        metric_names = [scoring if isinstance(scoring, str) else "score"]
        scoring_arg = {metric_names[0]: check_scoring(items[0][1], scoring)}
    elif isinstance(scoring, Mapping):
        metric_names, scoring_arg = list(scoring), dict(scoring)
    else:
        metric_names, scoring_arg = list(scoring), list(scoring)
    primary = metric_names[0]

    fold_scores = {m: {} for m in metric_names}
    rows = {}
    for name, est in items:
        out = cross_validate(
            est,
            X,
            y,
            cv=splits,
            scoring=scoring_arg,
            n_jobs=n_jobs,
            params=fit_params or None,
            error_score="raise",
        )
        row: dict[str, float] = {}
        for m in metric_names:
            s = np.asarray(out[f"test_{m}"], dtype=float)
            fold_scores[m][name] = s
            row[f"mean_{m}"] = float(s.mean())
            row[f"std_{m}"] = float(s.std())
        row["mean_fit_time"] = float(np.mean(out["fit_time"]))
        row["mean_score_time"] = float(np.mean(out["score_time"]))
        rows[name] = row
        if verbose:
            print(
                f"{name:>24}: {primary} {row[f'mean_{primary}']:.4f} "
                f"± {row[f'std_{primary}']:.4f}  (fit {row['mean_fit_time']:.2f} s)"
            )
    table = pd.DataFrame.from_dict(rows, orient="index")
    best = str(table[f"mean_{primary}"].idxmax())
    t_stats, p_values = [], []
    for name in table.index:
        if name == best:
            t_stats.append(np.nan)
            p_values.append(np.nan)
            continue
        t, p = corrected_ttest(
            fold_scores[primary][best], fold_scores[primary][name], n_train, n_test
        )
        t_stats.append(t)
        p_values.append(p)
    table["t_stat"] = t_stats
    table["p_value"] = p_values
    table = table.sort_values(f"mean_{primary}", ascending=False, kind="stable")
    table.index.name = "model"
    table.attrs["fold_scores"] = {
        m: pd.DataFrame(fold_scores[m])[list(table.index)] for m in metric_names
    }
    table.attrs["best"] = best
    table.attrs["metric"] = primary
    table.attrs["n_train"] = n_train
    table.attrs["n_test"] = n_test
    if plot is not None:
        plot_fold_scores(table, plot)
    return table


def plot_fold_scores(
    table: Any, path: str | Path, metric: str | None = None, title: str | None = None
) -> Path:
    """Box plot of each model's fold scores (from :func:`compare_models`).

    Parameters
    ----------
    table : DataFrame
        ``compare_models``' result.
    path : path
        Image file to write (PNG, SVG, PDF: from the suffix).
    metric : str, optional
        Which metric (default: the first).
    title : str, optional

    Returns
    -------
    Path
        The file written.
    """
    from skmm.utils._imports import import_pyplot

    plt = import_pyplot()

    metric = metric or table.attrs["metric"]
    scores = table.attrs["fold_scores"][metric]
    fig, ax = plt.subplots(figsize=(max(4.0, 1.2 * scores.shape[1] + 1.5), 4.0))
    ax.boxplot([scores[c].to_numpy() for c in scores.columns], showmeans=True)
    ax.set_xticks(range(1, scores.shape[1] + 1), list(scores.columns), rotation=20)
    for i, c in enumerate(scores.columns, start=1):
        ax.scatter(np.full(len(scores), i), scores[c], s=10, alpha=0.6, color="k")
    ax.set_ylabel(metric)
    ax.set_title(title or f"{metric} per fold ({len(scores)} folds, same splits)")
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
