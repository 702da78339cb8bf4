"""Search and model comparison.

- :class:`FusionSearchCV`: Optuna search over fusion strategies (chosen
  first, define-by-run) and their settings, per-epoch pruning through a
  skorch callback, resumable studies in a file or a database, results in
  GridSearchCV's format;
- :func:`compare_models`: the same folds for every candidate, mean/std per
  metric and the corrected resampled t-test against the best;
- :func:`fusion_space`, :class:`FlatSpace`: the default space and a
  GridSearchCV-like flat one; :func:`tuning_space`: how deep to fine-tune
  each tower (``unfreeze``, ``tower_lr``, ``lora``); :func:`plot_search`,
  :func:`plot_fold_scores`.
"""

from skmm.model_selection._compare import (
    compare_models,
    corrected_ttest,
    plot_fold_scores,
)
from skmm.model_selection._plots import plot_search
from skmm.model_selection._pruning import EpochPruning
from skmm.model_selection._search import FusionSearchCV
from skmm.model_selection._space import (
    FlatSpace,
    default_space,
    fusion_space,
    tower_depths,
    tuning_space,
)

__all__ = [
    "EpochPruning",
    "FlatSpace",
    "FusionSearchCV",
    "compare_models",
    "corrected_ttest",
    "default_space",
    "fusion_space",
    "plot_fold_scores",
    "plot_search",
    "tower_depths",
    "tuning_space",
]
