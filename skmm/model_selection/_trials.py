"""The trial loop of FusionSearchCV: what each worker process runs.

:class:`_SearchJob` holds everything a worker needs (picklable): the data,
the splits, the scorers and the search's settings; its ``objective`` draws
the space, fits and scores the folds (pruning per epoch), records fold
scores and times as trial user attributes and skips configurations already
evaluated.  :func:`_worker` loads the study in a joblib worker and runs it.
"""

from __future__ import annotations

import dataclasses
import time
import traceback
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
from sklearn.base import clone

from skmm.model_selection._pruning import EpochPruning
from skmm.model_selection._resume import trial_heartbeat
from skmm.model_selection._space import final_step
from skmm.model_selection._storage import make_storage
from skmm.utils._imports import import_optional
from skmm.utils._sklearn_compat import _safe_indexing as safe_indexing

if TYPE_CHECKING:
    from skmm.model_selection._search import FusionSearchCV

_FINISHED = ("COMPLETE", "PRUNED", "FAIL")
# consecutive draws of already evaluated configurations that end the search
_MAX_REPEATS = 25


def _optuna() -> Any:
    return import_optional("optuna", extra=None)


def _count_finished(study: Any) -> int:
    return sum(t.state.name in _FINISHED for t in study.get_trials(deepcopy=False))


def _worker(
    job: _SearchJob,
    storage_spec: Any,
    name: str,
    index: int,
    n_jobs: int,
    remaining: int | None,
    target: int | None,
) -> None:
    optuna = _optuna()
    search = job.search
    study = optuna.load_study(
        study_name=name,
        storage=make_storage(storage_spec, n_jobs),
        sampler=search._make_sampler(index),
        pruner=search._make_pruner(),
    )
    job.device = _worker_device(index)
    job.optimize(study, remaining, target, progress=index == 0)


def _worker_device(index: int) -> str | None:
    try:
        import torch

        n = torch.cuda.device_count()
    except Exception:  # pragma: no cover
        return None
    return f"cuda:{index % n}" if n > 1 else None


@dataclasses.dataclass(eq=False, repr=False)
class _SearchJob:
    """Everything a worker needs to evaluate trials (picklable)."""

    search: FusionSearchCV
    X: Any
    y: Any
    fit_params: dict
    splits: list
    scorers: Any
    refit_metric: str
    device: str | None = dataclasses.field(default=None, init=False)
    first_error: BaseException | None = dataclasses.field(default=None, init=False)
    repeats: int = dataclasses.field(default=0, init=False)

    def __post_init__(self) -> None:
        # resolved once, not per trial
        search, scorers = self.search, self.scorers
        self.space = search._space()
        optuna = _optuna()
        self.pruning = not isinstance(search._make_pruner(), optuna.pruners.NopPruner)
        multi = hasattr(scorers, "_scorers")
        self.metric_names = list(scorers._scorers) if multi else ["score"]
        self.primary = self.refit_metric if multi else "score"

    def _score(self, est: Any, X: Any, y: Any) -> dict[str, float]:
        out = self.scorers(est, X, y)
        if isinstance(out, Mapping):
            return {k: float(v) for k, v in out.items()}
        return {"score": float(out)}

    def _primary_scorer(self) -> Callable:
        scorers = self.scorers
        if hasattr(scorers, "_scorers"):
            return scorers._scorers[self.primary]
        return scorers

    def optimize(
        self,
        study: Any,
        remaining: int | None,
        target: int | None,
        progress: bool = True,
    ) -> None:
        optuna = _optuna()
        search = self.search
        callbacks = []
        if target is not None:
            callbacks.append(
                optuna.study.MaxTrialsCallback(
                    target,
                    states=tuple(
                        getattr(optuna.trial.TrialState, s) for s in _FINISHED
                    ),
                )
            )
        catch: tuple = () if search.error_score == "raise" else (Exception,)
        level = optuna.logging.get_verbosity()
        optuna.logging.set_verbosity(
            optuna.logging.INFO if search.verbose > 1 else optuna.logging.ERROR
        )
        try:
            study.optimize(
                self.objective,
                n_trials=remaining,
                timeout=search.timeout,
                catch=catch,
                callbacks=callbacks,
                show_progress_bar=bool(search.verbose) and progress,
                gc_after_trial=False,
            )
        finally:
            optuna.logging.set_verbosity(level)

    def objective(self, trial: Any) -> float:
        optuna = _optuna()
        try:
            with trial_heartbeat(trial):
                return self._objective(trial)
        except optuna.TrialPruned:
            raise
        except Exception as exc:
            if self.first_error is None:
                self.first_error = exc
            raise

    def _objective(self, trial: Any) -> float:
        optuna = _optuna()
        search = self.search
        try:
            params = self.space(trial)
        except Exception as exc:
            trial.set_user_attr("error", _describe(exc))
            raise
        seen = self._already_evaluated(trial)
        if seen is not None:
            self.repeats += 1
            if self.repeats >= _MAX_REPEATS:
                # the sampler keeps drawing evaluated configurations: a small
                # discrete space is exhausted
                trial.study.stop()
            return self._reuse(trial, seen)
        self.repeats = 0
        base = clone(search.estimator)
        final, prefix = final_step(base)
        final_params = final.get_params(deep=False)
        if self.device is not None and final_params.get("device") == "auto":
            params = {prefix + "device": self.device, **params}
        prunable = self.pruning and "callbacks" in final_params
        stride = int(final_params.get("max_epochs", 1000) or 1000)
        results: dict[str, list] = {}
        fit_times, score_times, epochs = [], [], 0
        for fold, (train, test) in enumerate(self.splits):
            X_train, X_test = safe_indexing(self.X, train), safe_indexing(self.X, test)
            y_train = None if self.y is None else safe_indexing(self.y, train)
            y_test = None if self.y is None else safe_indexing(self.y, test)
            fit_params = {
                k: safe_indexing(v, train) if _is_row_aligned(v, self.X) else v
                for k, v in self.fit_params.items()
            }
            est = clone(base)
            try:
                est.set_params(**params)
            except Exception as exc:
                trial.set_user_attr("error", _describe(exc))
                raise
            step, step_prefix = final_step(est)
            pruning = None
            if prunable:
                pruning = EpochPruning(
                    trial,
                    step,
                    est,
                    X_test,
                    y_test,
                    self._primary_scorer(),
                    step_offset=fold * stride,
                )
                est.set_params(
                    **{step_prefix + "callbacks": [*(step.callbacks or []), pruning]}
                )
            t0 = time.perf_counter()
            try:
                est.fit(X_train, y_train, **fit_params)
            except optuna.TrialPruned:
                epochs += getattr(pruning, "epochs_", 0)
                self._record(trial, results, fit_times, score_times, epochs)
                raise
            except Exception as exc:
                trial.set_user_attr("error", _describe(exc))
                trial.set_user_attr("failed_fold", fold)
                raise
            fit_times.append(time.perf_counter() - t0)
            n_iter = getattr(step, "n_iter_", None)  # an array for some models
            if n_iter is not None and np.size(n_iter):
                epochs += int(np.max(n_iter))
            t0 = time.perf_counter()
            try:
                scores = self._score(est, X_test, y_test)
                if search.return_train_score:
                    train_scores = self._score(est, X_train, y_train)
                    for k, v in train_scores.items():
                        results.setdefault(f"train_{k}", []).append(v)
            except Exception as exc:
                trial.set_user_attr("error", _describe(exc))
                raise
            score_times.append(time.perf_counter() - t0)
            for k, v in scores.items():
                results.setdefault(f"test_{k}", []).append(v)
            if not prunable:  # judge after each fold instead
                trial.report(float(np.mean(results[f"test_{self.primary}"])), fold)
                if trial.should_prune():
                    self._record(trial, results, fit_times, score_times, epochs)
                    raise optuna.TrialPruned(f"pruned after fold {fold}")
        self._record(trial, results, fit_times, score_times, epochs)
        value = float(np.mean(results[f"test_{self.primary}"]))
        if not np.isfinite(value):
            trial.set_user_attr("error", f"the mean test score is {value}")
            raise ValueError(f"trial {trial.number}: the mean test score is {value}")
        return value

    @staticmethod
    def _already_evaluated(trial: Any) -> Any:
        """A finished trial of the study with the same parameters, if any.

        Training is deterministic for a fixed ``random_state``, so a
        configuration drawn again (TPE does, in small discrete spaces) is
        not trained again: its result is reused (or it is pruned again).
        """
        if not trial.params:
            return None
        optuna = _optuna()
        states = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)
        for other in trial.study.get_trials(deepcopy=False, states=states):
            if other.number != trial.number and other.params == trial.params:
                if other.state.name == "COMPLETE" or other.user_attrs.get(
                    "pruned_at_epoch"
                ):
                    return other
        return None

    def _reuse(self, trial: Any, other: Any) -> float:
        optuna = _optuna()
        for key, value in other.user_attrs.items():
            if key.startswith("split_") or key in ("fit_times", "score_times"):
                trial.set_user_attr(key, value)
        trial.set_user_attr("n_epochs", 0)
        trial.set_user_attr("duplicate_of", int(other.number))
        if other.state.name == "PRUNED":
            raise optuna.TrialPruned(f"same parameters as pruned trial {other.number}")
        return float(other.value)

    @staticmethod
    def _record(
        trial: Any, results: dict, fit_times: list, score_times: list, epochs: int
    ) -> None:
        for k, v in results.items():
            trial.set_user_attr(f"split_{k}", [float(x) for x in v])
        trial.set_user_attr("fit_times", [float(x) for x in fit_times])
        trial.set_user_attr("score_times", [float(x) for x in score_times])
        trial.set_user_attr("n_epochs", int(epochs))


def _is_row_aligned(value: Any, X: Any) -> bool:
    try:
        return (
            hasattr(value, "__len__")
            and len(value) == len(X)
            and not isinstance(value, str)
        )
    except TypeError:
        return False


def _describe(exc: BaseException) -> str:
    tb = traceback.extract_tb(exc.__traceback__)
    where = f" ({tb[-1].filename.rsplit('/', 1)[-1]}:{tb[-1].lineno})" if tb else ""
    return f"{type(exc).__name__}: {exc}{where}"
