"""A skorch callback that scores the model on the fold's held-out rows after
every epoch, reports it to the Optuna trial, and stops hopeless trials."""

from __future__ import annotations

from dataclasses import KW_ONLY
from typing import Any

from skorch.callbacks import Callback

from skmm.utils._params import estimator_init

__all__ = ["EpochPruning"]


@estimator_init
class EpochPruning(Callback):
    """Report the held-out score each epoch; raise ``optuna.TrialPruned`` when
    the trial's pruner says so.

    Parameters
    ----------
    trial : optuna.trial.Trial
    estimator : estimator
        The skmm estimator being trained (it owns the skorch net).
    pipeline : estimator
        What is fitted: ``estimator`` itself, or a Pipeline ending in it (its
        earlier steps, fitted by then, transform the held-out rows).
    X_valid, y_valid
        The fold's held-out rows (in the pipeline's input format).
    scorer : callable
        ``scorer(estimator, X, y) -> float`` (greater is better).
    step_offset : int
        Added to the epoch number, so each fold reports distinct steps.
    every : int, default=1
        Score every ``every`` epochs.

    Attributes
    ----------
    epochs_ : int
        Epochs seen.
    scores_ : list of float
        Reported scores.
    """

    trial: Any
    estimator: Any
    pipeline: Any
    X_valid: Any
    y_valid: Any
    scorer: Any
    step_offset: int = 0
    every: int = 1
    _: KW_ONLY  # (none after it: every parameter is positional-or-keyword)

    def initialize(self) -> EpochPruning:
        self.epochs_ = 0
        self.scores_: list[float] = []
        self._Xt = None
        return self

    def _transformed(self) -> Any:
        if self._Xt is None:
            if self.pipeline is self.estimator:
                self._Xt = self.X_valid
            else:
                self._Xt = self.pipeline[:-1].transform(self.X_valid)
        return self._Xt

    def on_epoch_end(self, net: Any, **kwargs: Any) -> None:
        import optuna

        self.epochs_ += 1
        if self.epochs_ % self.every:
            return
        est = self.estimator
        module = net.module_
        was_training = module.training
        missing = object()
        previous = getattr(est, "net_", missing)
        est.net_ = net  # the estimator predicts through the net being trained
        try:
            score = float(self.scorer(est, self._transformed(), self.y_valid))
        finally:
            if previous is missing:
                del est.net_
            else:
                est.net_ = previous
            module.train(was_training)
        self.scores_.append(score)
        step = self.step_offset + self.epochs_
        self.trial.report(score, step)
        if self.trial.should_prune():
            self.trial.set_user_attr("pruned_at_epoch", self.epochs_)
            raise optuna.TrialPruned(
                f"pruned at epoch {self.epochs_} (score {score:.4g})"
            )
