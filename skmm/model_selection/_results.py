"""FusionSearchCV's results: ``cv_results_`` and the best trial, rebuilt from
the study's finished trials (so a resumed study's are complete too)."""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

import numpy as np

from skmm.model_selection._trials import _FINISHED, _optuna

if TYPE_CHECKING:
    from skmm.model_selection._search import FusionSearchCV
    from skmm.model_selection._trials import _SearchJob


def build_results(
    search: FusionSearchCV, study: Any, job: _SearchJob, refit_metric: str
) -> None:
    """Set ``cv_results_``, ``best_index_``, ``best_params_`` and
    ``best_score_`` on ``search`` from the finished trials of ``study``.

    Raises ``ValueError`` (or the estimator's own error type) when no trial
    finished, every trial failed, or none completed; warns when some failed.
    """
    trials = [t for t in study.get_trials(deepcopy=False) if t.state.name in _FINISHED]
    trials.sort(key=lambda t: t.number)
    if not trials:
        raise ValueError("No trial finished (n_trials=0 or timeout too short).")
    failed = [t for t in trials if t.state.name == "FAIL"]
    if len(failed) == len(trials):
        errors = {t.user_attrs.get("error", "unknown error") for t in failed}
        message = f"All {len(trials)} trials failed. Errors: " + " | ".join(
            sorted(errors)
        )
        first = job.first_error
        if first is not None and isinstance(first, (TypeError, ValueError)):
            # same type as the estimator's own error, so callers that
            # catch it (and sklearn's checks) see what a plain fit raises
            raise type(first)(message) from first
        raise ValueError(message)
    if not any(t.state.name == "COMPLETE" for t in trials):
        counts = {s: sum(t.state.name == s for t in trials) for s in _FINISHED}
        raise ValueError(
            f"No trial completed ({counts['PRUNED']} pruned, {counts['FAIL']} "
            f"failed); the study is in study_ ({search.study_name_!r}). Run more "
            "trials, or loosen the pruner."
        )
    if failed:
        first = failed[0].user_attrs.get("error", "unknown error")
        warnings.warn(
            f"{len(failed)} of {len(trials)} trials failed (their scores are "
            f"NaN); trial {failed[0].number}: {first}",
            UserWarning,
            stacklevel=4,
        )
    start = min(t.datetime_start for t in trials if t.datetime_start is not None)
    space = job.space
    optuna = _optuna()
    names = job.metric_names
    n = len(trials)
    results: dict[str, Any] = {}
    all_params = []
    for t in trials:
        try:
            all_params.append(space(optuna.trial.FixedTrial(t.params)))
        except Exception:  # a failed trial may have stopped mid-draw
            all_params.append({})
    for prefix_set in ("test",) + (("train",) if search.return_train_score else ()):
        for m in names:
            split = np.full((search.n_splits_, n), np.nan)
            for j, t in enumerate(trials):
                vals = t.user_attrs.get(f"split_{prefix_set}_{m}", [])
                split[: len(vals), j] = vals
            for k in range(search.n_splits_):
                results[f"split{k}_{prefix_set}_{m}"] = split[k]
            complete = np.array([t.state.name == "COMPLETE" for t in trials])
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                mean = np.where(complete, np.nanmean(split, axis=0), np.nan)
                std = np.where(complete, np.nanstd(split, axis=0), np.nan)
            results[f"mean_{prefix_set}_{m}"] = mean
            results[f"std_{prefix_set}_{m}"] = std
            if prefix_set == "test":
                results[f"rank_test_{m}"] = _rank(mean)
    for key in ("fit_time", "score_time"):
        vals = [t.user_attrs.get(key + "s", []) for t in trials]
        results[f"mean_{key}"] = np.array([np.mean(v) if v else np.nan for v in vals])
        results[f"std_{key}"] = np.array([np.std(v) if v else np.nan for v in vals])
    keys = sorted({k for p in all_params for k in p})
    for key in keys:
        arr = np.ma.MaskedArray(np.empty(n, dtype=object), mask=True)
        for j, p in enumerate(all_params):
            if key in p:
                arr[j] = p[key]
        results[f"param_{key}"] = arr
    results["params"] = all_params
    results["trial_number"] = np.array([t.number for t in trials])
    results["state"] = np.array([t.state.name for t in trials])
    results["error"] = np.array(
        [t.user_attrs.get("error", "") for t in trials], dtype=object
    )
    results["n_epochs"] = np.array([t.user_attrs.get("n_epochs", -1) for t in trials])
    results["time_complete"] = np.array(
        [
            (t.datetime_complete - start).total_seconds()
            if t.datetime_complete is not None
            else np.nan
            for t in trials
        ]
    )
    search.cv_results_ = results
    metric = refit_metric if search.multimetric_ else "score"
    if search.refit is not False or not search.multimetric_:
        if callable(search.refit):
            search.best_index_ = int(search.refit(results))
        else:
            ranks = results[f"rank_test_{metric}"]
            search.best_index_ = int(np.argmin(ranks))
        search.best_params_ = all_params[search.best_index_]
        search.best_score_ = float(results[f"mean_test_{metric}"][search.best_index_])


def _rank(mean: np.ndarray) -> np.ndarray:
    from scipy.stats import rankdata

    finite = np.isfinite(mean)
    key = np.where(finite, -mean, np.inf)
    return rankdata(key, method="min").astype(np.int32)
