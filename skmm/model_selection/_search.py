"""FusionSearchCV: Optuna search over fusion strategies and their settings,
with per-epoch pruning, resumable storage and GridSearchCV's results format.

The estimator lives here (parameters, samplers, the study's set-up and the
refit); the trial loop the workers run is in ``_trials.py``, the results
tables in ``_results.py``, the resume checks in ``_resume.py`` and the
storages in ``_storage.py``."""

from __future__ import annotations

import copy
import numbers
import time
import uuid
import warnings
from collections.abc import Callable, Mapping
from dataclasses import KW_ONLY
from typing import Any

import numpy as np
from sklearn.base import clone, is_classifier
from sklearn.model_selection import check_cv
from sklearn.utils import indexable

from skmm.model_selection._results import build_results
from skmm.model_selection._resume import check_space, fail_stale_trials
from skmm.model_selection._space import FlatSpace, default_space
from skmm.model_selection._storage import (
    absolute_storage,
    describe_storage,
    make_storage,
    storage_errors,
    storage_file,
)
from skmm.model_selection._trials import (
    _count_finished,
    _optuna,
    _SearchJob,
    _worker,
)
from skmm.utils._params import estimator_init
from skmm.utils._sklearn_compat import (
    BaseSearchCV,
    Interval,
    StrOptions,
    _check_method_params,
    _fit_context,
)

__all__ = ["FusionSearchCV"]


@estimator_init
class FusionSearchCV(BaseSearchCV):
    """Search fusion strategies and their settings with Optuna.

    Each trial draws a configuration (define-by-run: the fusion strategy
    first, then the knobs every strategy shares, then the strategy's own
    sub-space), cross-validates it on the same folds as every other trial,
    and reports the held-out score after every training epoch so that the
    pruner stops hopeless trials early.  A trial that raises is recorded as
    failed (with its error) and the search goes on.  Results come in
    ``GridSearchCV``'s ``cv_results_`` format.

    Parameters
    ----------
    estimator : estimator or Pipeline
        A skmm fusion estimator, a :class:`skmm.retrieval.ContrastiveRetriever`,
        any estimator with a ``search_space(trial)`` classmethod, or a
        Pipeline ending in one (parameters then carry the step's prefix).
    param_distributions : None, dict or callable, default=None
        ``None``: the estimator's default space (for fusion estimators
        :func:`skmm.model_selection.fusion_space` over every registered
        strategy, plugins included).  A dict like GridSearchCV's
        ``param_grid``: parameter -> list of choices, an Optuna
        distribution, or a fixed value.  A callable ``space(trial) -> dict``
        of parameters (e.g. ``functools.partial(fusion_space,
        overrides={"lr": [1e-3]})`` to override part of the default).
    n_trials : int or None, default=20
        Finished trials (complete, pruned or failed) the study should hold.
        A resumed study counts the trials it already has.  ``None`` runs
        until ``timeout``.
    timeout : float or None, default=None
        Stop starting trials after this many seconds.
    scoring : str, callable, list or dict, default=None
        As in GridSearchCV (greater is better); e.g. ``"accuracy"``, or
        ``skmm.metrics.make_retrieval_scorer("recall@5")`` for retrievers.
        With several metrics, ``refit`` names the one to optimise.
    cv : int, cross-validation generator or iterable, default=None
        As in GridSearchCV (5-fold; stratified for classifiers).  Every trial
        uses the same folds.
    refit : bool, str or callable, default=True
        Refit the best configuration on all of ``X``.
    sampler : optuna sampler, "tpe" or "grid", default="tpe"
        ``"tpe"``: ``TPESampler(seed=random_state, multivariate=True,
        group=True)``.  ``"grid"``: every combination of a dict
        ``param_distributions`` (of lists), as GridSearchCV.  Any Optuna
        sampler instance is used as given (a copy per fit).
    pruner : optuna pruner, "median" or None, default="median"
        ``"median"``: ``MedianPruner(n_startup_trials=5,
        n_warmup_steps=5)``.  ``None``: no pruning.  Pruning needs an
        estimator with a ``callbacks`` parameter (skorch-based); others are
        judged after each fold.
    storage : None, "auto", str, path or optuna storage, default="auto"
        ``"auto"``: a file in the working folder (``skmm_optuna.db``,
        SQLite, for one process; ``skmm_optuna.journal``, Optuna's journal
        file, when ``n_jobs > 1``).  ``None``: in memory.  A database URL
        (``postgresql://user:pass@host/db``) lets workers on several machines
        share one study.
    study_name : str or None, default=None
        Name of the study in ``storage``.  Fitting again with the same name
        resumes it (no finished trial is lost, even after ``kill -9``).
        ``None``: a new, unique name per fit.
    n_jobs : int or None, default=None
        Worker *processes* running trials in parallel through the storage
        (each worker evaluates whole trials).  With several GPUs, worker ``i``
        trains on GPU ``i % n_gpus`` (for estimators with ``device="auto"``).
    random_state : int or None, default=None
        Seeds the default sampler (worker ``i`` uses ``random_state + i``).
        One process with the same seed gives the same ``best_params_``.
    error_score : "raise" or float, default=np.nan
        ``"raise"`` stops the search at the first failing trial; a number
        records failed trials (their scores are NaN in ``cv_results_``).
    return_train_score : bool, default=False
        Also score the training folds.
    verbose : int, default=0
        ``1``: a progress bar over trials and a summary; ``2``: Optuna's
        per-trial log lines too.

    Attributes
    ----------
    cv_results_ : dict of ndarrays
        GridSearchCV's format (``params``, ``param_<name>`` masked arrays,
        ``split<k>_test_score``, ``mean_test_score``, ``std_test_score``,
        ``rank_test_score``, ``mean_fit_time``, ...), one entry per finished
        trial, plus ``trial_number``, ``state`` ("COMPLETE", "PRUNED",
        "FAIL"), ``error``, ``n_epochs`` and ``time_complete`` (seconds
        since the study's first trial started).  Pruned and failed trials
        have NaN mean scores.
    best_estimator_ : estimator
        Refitted on all of X with ``best_params_`` (when ``refit``).
    best_score_ : float
        Mean cross-validated score of the best trial.
    best_params_ : dict
        Its parameters.
    best_index_ : int
        Its index in ``cv_results_``.
    study_ : optuna.Study
        The study (trials, ``trials_dataframe()``, plots).
    study_name_ : str
        The study's name (to resume it).
    n_splits_ : int
        Folds per trial.
    scorer_ : callable or dict
        The scorer(s).
    refit_time_ : float
        Seconds spent refitting.
    multimetric_ : bool
        Whether several metrics were scored.

    See Also
    --------
    skmm.model_selection.compare_models : compare the winners on equal folds.

    Examples
    --------
    >>> import numpy as np
    >>> from skmm.fusion import FusionClassifier
    >>> from skmm.model_selection import FusionSearchCV
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(120, 6))
    >>> y = (X[:, 0] + X[:, 3] > 0).astype(int)
    >>> est = FusionClassifier(modalities={"a": 3, "b": 3}, max_epochs=5,
    ...                        random_state=0, device="cpu")
    >>> search = FusionSearchCV(est, n_trials=4, cv=3, storage=None,
    ...                         random_state=0).fit(X, y)
    >>> sorted(search.best_params_)[:2]
    ['dropout', 'fusion']
    >>> len(search.cv_results_["mean_test_score"])
    4
    """

    _parameter_constraints: dict = {
        **BaseSearchCV._parameter_constraints,
        "param_distributions": [dict, callable, None],
        "n_trials": [Interval(numbers.Integral, 1, None, closed="left"), None],
        "timeout": [Interval(numbers.Real, 0, None, closed="neither"), None],
        "sampler": [StrOptions({"tpe", "grid"}), object],
        "pruner": [StrOptions({"median"}), object, None],
        "storage": "no_validation",
        "study_name": [str, None],
        "random_state": ["random_state"],
    }
    _parameter_constraints.pop("pre_dispatch", None)

    estimator: Any
    param_distributions: Mapping[str, Any] | Callable | None = None
    _: KW_ONLY
    n_trials: int | None = 20
    timeout: float | None = None
    scoring: Any = None
    cv: Any = None
    refit: bool | str | Callable = True
    sampler: Any = "tpe"
    pruner: Any = "median"
    storage: Any = "auto"
    study_name: str | None = None
    n_jobs: int | None = None
    random_state: int | None = None
    error_score: Any = np.nan
    return_train_score: bool = False
    verbose: int = 0

    # -------------------------------------------------------------- pieces
    def _space(self) -> Callable[[Any], dict[str, Any]]:
        spec = self.param_distributions
        if spec is None:
            return default_space(self.estimator)
        if callable(spec) and not isinstance(spec, Mapping):
            return spec
        return FlatSpace(spec)

    def _make_sampler(self, worker: int = 0) -> Any:
        optuna = _optuna()
        if isinstance(self.sampler, str) and self.sampler == "grid":
            space = self._space()
            if not isinstance(space, FlatSpace):
                raise ValueError(
                    "sampler='grid' needs param_distributions as a dict of lists "
                    "(like GridSearchCV's param_grid)."
                )
            return optuna.samplers.GridSampler(space.grid(), seed=self.random_state)
        if isinstance(self.sampler, str):
            seed = (
                None if self.random_state is None else int(self.random_state) + worker
            )
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                return optuna.samplers.TPESampler(
                    seed=seed, multivariate=True, group=True
                )
        if not isinstance(self.sampler, optuna.samplers.BaseSampler):
            raise TypeError(
                "sampler must be 'tpe', 'grid' or an Optuna sampler; got "
                f"{self.sampler!r}."
            )
        return copy.deepcopy(self.sampler)

    def _make_pruner(self) -> Any:
        optuna = _optuna()
        if self.pruner is None:
            return optuna.pruners.NopPruner()
        if isinstance(self.pruner, str):
            return optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=5)
        if not isinstance(self.pruner, optuna.pruners.BasePruner):
            raise TypeError(
                "pruner must be 'median', None or an Optuna pruner; got "
                f"{self.pruner!r}."
            )
        return copy.deepcopy(self.pruner)

    def _n_trials_target(self) -> int | None:
        if self.n_trials is not None:
            return int(self.n_trials)
        if isinstance(self.sampler, str) and self.sampler == "grid":
            grid = self._space().grid()  # type: ignore[union-attr]
            return int(np.prod([len(v) for v in grid.values()]))
        if self.timeout is None:
            raise ValueError("Set n_trials or timeout (both are None).")
        return None

    # ------------------------------------------------------------------ fit
    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X: Any, y: Any = None, **params: Any) -> FusionSearchCV:
        """Run the search.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,), optional
        **params : dict
            ``groups`` for the splitter; other fit parameters (e.g.
            ``sample_weight``) are split with the rows and passed to
            ``estimator.fit``.

        Returns
        -------
        self
        """
        optuna = _optuna()
        scorers, refit_metric = self._get_scorers()
        self.multimetric_ = bool(hasattr(scorers, "_scorers"))
        X, y = indexable(X, y)
        params = dict(params)
        groups = params.pop("groups", None)
        fit_params = _check_method_params(X, params=params)
        cv = check_cv(self.cv, y, classifier=is_classifier(self.estimator))
        splits = list(cv.split(X, y, groups))
        self.n_splits_ = len(splits)
        self.scorer_ = scorers
        self._space()  # fail early on a bad space
        target = self._n_trials_target()
        n_jobs = 1 if self.n_jobs is None else int(self.n_jobs)
        if n_jobs < 0:
            import os

            n_jobs = max(1, (os.cpu_count() or 1) + 1 + n_jobs)

        # absolute paths: worker processes may run in another folder
        spec = absolute_storage(self.storage, n_jobs)
        storage = make_storage(spec, n_jobs)
        name = self.study_name or f"skmm-search-{uuid.uuid4().hex[:12]}"
        level = optuna.logging.get_verbosity()
        if self.verbose < 2:  # no "A new study created" line
            optuna.logging.set_verbosity(optuna.logging.WARNING)
        try:
            with storage_errors(storage_file(spec, n_jobs)):
                study = optuna.create_study(
                    study_name=name,
                    storage=storage,
                    direction="maximize",
                    sampler=self._make_sampler(0),
                    pruner=self._make_pruner(),
                    load_if_exists=True,
                )
                # another space fails now, not trial by trial; dead workers'
                # trials are failed
                check_space(study, self._space(), describe_storage(spec, n_jobs))
                fail_stale_trials(study)
        finally:
            optuna.logging.set_verbosity(level)
        self.study_name_ = name
        before = _count_finished(study)
        remaining = None if target is None else max(0, target - before)
        if self.verbose:
            print(
                f"FusionSearchCV: study {name!r} in "
                f"{describe_storage(self.storage, n_jobs)}"
                f" ({before} finished trials); {self.n_splits_} folds per trial"
                + ("" if remaining is None else f", {remaining} trials to run")
            )
        job = _SearchJob(self, X, y, fit_params, splits, scorers, refit_metric)
        if remaining is None or remaining > 0:
            if n_jobs == 1:
                job.optimize(study, remaining, target)
            else:
                from joblib import Parallel, delayed

                Parallel(n_jobs=n_jobs, backend="loky")(
                    delayed(_worker)(job, spec, name, i, n_jobs, remaining, target)
                    for i in range(n_jobs)
                )
                study = optuna.load_study(
                    study_name=name,
                    storage=make_storage(spec, n_jobs),
                    sampler=self._make_sampler(0),
                    pruner=self._make_pruner(),
                )
        self.study_ = study
        self._build_results(study, job, refit_metric)

        if self.refit:
            best = clone(self.estimator).set_params(**self.best_params_)
            t0 = time.perf_counter()
            best.fit(X, y, **fit_params)
            self.refit_time_ = time.perf_counter() - t0
            self.best_estimator_ = best
            if hasattr(best, "feature_names_in_"):
                self.feature_names_in_ = best.feature_names_in_
        return self

    # -------------------------------------------------------------- results
    def _build_results(self, study: Any, job: _SearchJob, refit_metric: str) -> None:
        build_results(self, study, job, refit_metric)

    def _run_search(self, evaluate_candidates: Any) -> None:  # pragma: no cover
        raise NotImplementedError("FusionSearchCV runs its own loop in fit.")

    def __sklearn_tags__(self):
        from sklearn.utils import get_tags

        tags = super().__sklearn_tags__()
        inner = get_tags(self.estimator)
        tags.input_tags.allow_nan = inner.input_tags.allow_nan
        tags.target_tags = copy.deepcopy(inner.target_tags)
        return tags
