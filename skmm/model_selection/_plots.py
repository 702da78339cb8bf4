"""Figures of a search: optimisation history and parameter importances."""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["plot_search"]


def plot_search(
    search: Any, folder: str | Path, prefix: str = "search"
) -> dict[str, Path]:
    """Save the optimisation history and the parameter importances of a
    fitted :class:`FusionSearchCV` (or an Optuna study) as PNG files.

    Uses ``optuna.visualization.matplotlib`` (needs matplotlib: the ``plot``
    extra).  The importance plot is skipped (with no file) when fewer than
    two trials completed.

    Parameters
    ----------
    search : FusionSearchCV or optuna.Study
    folder : path
        Where to write ``<prefix>_history.png`` and
        ``<prefix>_importances.png``.
    prefix : str, default="search"

    Returns
    -------
    dict
        ``"history"`` / ``"importances"`` -> file written.
    """
    import warnings

    from skmm.utils._imports import import_pyplot

    plt = import_pyplot()
    import optuna
    from optuna.visualization import matplotlib as ovm

    study = getattr(search, "study_", search)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    out: dict[str, Path] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        # "some regimes have less than 2 trials": expected on short searches
        warnings.filterwarnings("ignore", message="Some regimes", category=UserWarning)
        ax = ovm.plot_optimization_history(study)
        ax.figure.set_size_inches(7, 4)
        ax.figure.tight_layout()
        out["history"] = folder / f"{prefix}_history.png"
        ax.figure.savefig(out["history"], dpi=110)
        plt.close(ax.figure)
        complete = [
            t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE
        ]
        if len(complete) >= 2:
            try:
                ax = ovm.plot_param_importances(study)
            except (RuntimeError, ValueError):  # e.g. one distinct value only
                return out
            ax.figure.set_size_inches(7, 4)
            ax.figure.tight_layout()
            out["importances"] = folder / f"{prefix}_importances.png"
            ax.figure.savefig(out["importances"], dpi=110)
            plt.close(ax.figure)
    return out
