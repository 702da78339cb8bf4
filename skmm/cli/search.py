"""``skmm search``: search fusion strategies and settings with FusionSearchCV."""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from skmm.cli._args import (
    add_command,
    add_encoded_argument,
    paragraph,
    positive_float,
    positive_int,
)
from skmm.cli._errors import usage, usage_on_bad_file
from skmm.cli._files import ENCODED_HINT, ROW_COLUMN, read_encoded
from skmm.cli._io import existing_file, format_table, read_toml, say

__all__ = ["add_parser", "cmd_search", "load_config"]

_SEARCH_EPILOG = """\
CONFIG.toml
  target = "label"                 # a column kept with `skmm encode --keep`
  task = "classification"          # or "regression"
  [estimator]                      # FusionClassifier / FusionRegressor settings
  max_epochs = 20
  [search]
  n_trials = 30
  cv = 5
  scoring = "accuracy"
  random_state = 0
  timeout = 600                    # seconds
  fusions = ["concat", "gated"]    # restrict the strategies searched
  [search.overrides]               # replace part of the default space
  lr = [0.001, 0.0003]

Command-line flags win over the file.  A study in a file or database resumes
when run again with the same --study-name.

example
  skmm search products.parquet search.toml --study-name products \\
      --n-trials 50 --output best.joblib
"""


def add_parser(sub: Any) -> None:
    """Add ``search`` to the subcommands ``sub``."""
    search = add_command(
        sub,
        "search",
        help="search fusion strategies and settings (FusionSearchCV, Optuna)",
        description=paragraph(
            "Cross-validate fusion models on an encoded file with "
            "skmm.model_selection.FusionSearchCV, configured by a TOML file; "
            "print the best parameters and the top trials."
        ),
        epilog=_SEARCH_EPILOG,
    )
    add_encoded_argument(search)
    search.add_argument("config", metavar="CONFIG.toml", help="the search settings")
    search.add_argument(
        "--storage",
        metavar="URL|PATH",
        help="where the study lives: a .db/.journal file, a database URL, "
        "'memory' (default: auto, skmm_optuna.db in the working folder)",
    )
    search.add_argument(
        "--study-name", metavar="NAME", help="name of the study (to resume it)"
    )
    search.add_argument(
        "--n-trials", type=positive_int, metavar="N", help="finished trials wanted"
    )
    search.add_argument(
        "--timeout", type=positive_float, metavar="S", help="stop after S seconds"
    )
    search.add_argument(
        "--output", metavar="FILE.joblib", help="save the refitted best estimator"
    )
    search.add_argument(
        "-q", "--quiet", action="store_true", help="no progress bar or warnings"
    )
    search.set_defaults(func=cmd_search)


_CONFIG_KEYS = {"target", "task", "estimator", "search", "storage", "study_name"}
_SEARCH_KEYS = {
    "n_trials",
    "cv",
    "scoring",
    "random_state",
    "timeout",
    "fusions",
    "overrides",
    "n_jobs",
    "storage",
    "study_name",
}


def load_config(path: str | os.PathLike) -> dict:
    """Read and check a ``skmm search`` TOML configuration.

    Parameters
    ----------
    path : str or PathLike
        The TOML file.

    Returns
    -------
    dict
        The settings, with ``task`` filled in.

    Raises
    ------
    CLIError
        For a file that is missing, unreadable or not TOML, an unknown key, or
        a missing or wrong ``target`` or ``task`` (usage errors).
    """
    p = existing_file(path, "config file")
    expected = "TOML settings (see `skmm search --help`)"
    hint = 'e.g.  target = "label"  and a [search] table with n_trials = 20'
    with usage_on_bad_file(hint):
        config = read_toml(p, expected)
    unknown = sorted(set(config) - _CONFIG_KEYS)
    if unknown:
        raise usage(
            f"{p.name}: unknown key(s) {', '.join(unknown)}",
            "known keys: " + ", ".join(sorted(_CONFIG_KEYS)),
        )
    search = config.get("search", {})
    if not isinstance(search, dict):
        raise usage(
            f"{p.name}: 'search' must be a table",
            "write the search settings under a [search] header",
        )
    unknown = sorted(set(search) - _SEARCH_KEYS)
    if unknown:
        raise usage(
            f"{p.name}: unknown key(s) in [search]: {', '.join(unknown)}",
            "known keys: " + ", ".join(sorted(_SEARCH_KEYS)),
        )
    if not isinstance(config.get("estimator", {}), dict):
        raise usage(
            f"{p.name}: 'estimator' must be a table",
            "write the estimator settings under an [estimator] header",
        )
    if "target" not in config or not isinstance(config["target"], str):
        raise usage(
            f"{p.name} names no target column",
            'add  target = "label"  (a column kept with `skmm encode --keep label`)',
        )
    task = config.get("task", "classification")
    if task not in ("classification", "regression"):
        raise usage(
            f"{p.name}: task must be 'classification' or 'regression', got {task!r}",
            'e.g. task = "regression" for a numeric target',
        )
    config["task"] = task
    return config


def _space(search_cfg: Mapping[str, Any]) -> Callable | None:
    import functools

    from skmm.model_selection import fusion_space
    from skmm.registry import fusions

    strategies = search_cfg.get("fusions")
    overrides = search_cfg.get("overrides")
    if strategies is None and overrides is None:
        return None
    if strategies is not None:
        if isinstance(strategies, str):
            strategies = [strategies]
        known = fusions.names()
        bad = [s for s in strategies if s not in known]
        if bad or not strategies:
            raise usage(
                f"unknown fusion strategy {', '.join(map(repr, bad)) or '(none)'} "
                "in [search] fusions",
                "registered fusions: " + ", ".join(known),
            )
    if overrides is not None and not isinstance(overrides, dict):
        raise usage(
            "[search] overrides must be a table of parameter -> choices",
            "e.g. [search.overrides] with lr = [0.001, 0.0003]",
        )
    return functools.partial(
        fusion_space, strategies=strategies, overrides=overrides, prefix=""
    )


def _make_estimator(config: Mapping[str, Any]) -> Any:
    from skmm.fusion import FusionClassifier, FusionRegressor

    cls = FusionClassifier if config["task"] == "classification" else FusionRegressor
    params = dict(config.get("estimator", {}))
    try:
        est = cls(**params)
        est._validate_params()
    except (TypeError, ValueError) as exc:
        raise usage(
            f"[estimator]: {exc}",
            f"{cls.__name__} settings: "
            + ", ".join(sorted(cls().get_params(deep=False))),
        ) from exc
    return est


def cmd_search(args: argparse.Namespace) -> int:
    """``skmm search``: run :class:`~skmm.model_selection.FusionSearchCV`.

    Parameters
    ----------
    args : argparse.Namespace
        ``encoded``, ``config``, ``storage``, ``study_name``, ``n_trials``,
        ``timeout``, ``output``, ``quiet``.

    Returns
    -------
    int
        The exit code (0).
    """
    import warnings

    import joblib
    import numpy as np

    config = load_config(args.config)
    search_cfg = dict(config.get("search", {}))
    with usage_on_bad_file(ENCODED_HINT):
        enc = read_encoded(args.encoded)
    target = config["target"]
    if target not in enc.extras.columns:
        kept = [c for c in enc.extras.columns if c != ROW_COLUMN]
        raise usage(
            f"the target column {target!r} is not in {enc.path.name} (kept columns: "
            f"{', '.join(kept) or 'none'})",
            f"encode again with --keep {target}",
        )
    y = enc.extras[target]
    ok = y.notna().to_numpy()
    X, y = enc.features[ok].reset_index(drop=True), y[ok].to_numpy()
    if not ok.all():
        say(f"note: {int((~ok).sum())} rows without a {target!r} value left out")
    estimator = _make_estimator(config)
    space = _space(search_cfg)
    storage = (
        args.storage or search_cfg.get("storage") or config.get("storage") or "auto"
    )
    storage = None if storage == "memory" else storage
    study_name = (
        args.study_name or search_cfg.get("study_name") or config.get("study_name")
    )
    n_trials = (
        args.n_trials if args.n_trials is not None else search_cfg.get("n_trials", 20)
    )
    timeout = args.timeout if args.timeout is not None else search_cfg.get("timeout")
    scoring = search_cfg.get("scoring")
    if scoring is not None and not isinstance(scoring, str):
        raise usage(
            "[search] scoring must be one metric name",
            'e.g. scoring = "accuracy" (any scikit-learn scorer name)',
        )
    from skmm.model_selection import FusionSearchCV

    search = FusionSearchCV(
        estimator,
        space,
        n_trials=n_trials,
        timeout=timeout,
        scoring=scoring,
        cv=search_cfg.get("cv"),
        storage=storage,
        study_name=study_name,
        n_jobs=search_cfg.get("n_jobs"),
        random_state=search_cfg.get("random_state"),
        verbose=0 if args.quiet else 1,
    )
    try:
        search._validate_params()
    except ValueError as exc:
        raise usage(
            f"[search]: {exc}", "fix that setting in [search] or on the command line"
        ) from exc
    import optuna

    level = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.WARNING)  # we print our own lines
    t0 = time.perf_counter()
    try:
        with warnings.catch_warnings():
            if args.quiet:
                warnings.simplefilter("ignore")
            search.fit(X, y)
    finally:
        optuna.logging.set_verbosity(level)
    seconds = time.perf_counter() - t0

    res = search.cv_results_
    metric = scoring or ("accuracy" if config["task"] == "classification" else "r2")
    say(
        f"searched {len(res['params'])} trials in {seconds:.1f} s "
        f"({search.n_splits_}-fold CV, {len(y)} rows); study "
        f"{search.study_name_!r} in {_describe_storage(storage)}"
    )
    say(f"best score: {search.best_score_:.4f} ({metric})")
    say("best params: " + _format_params(search.best_params_))
    order = np.argsort(res["rank_test_score"], kind="stable")[:5]
    header = ["rank", "trial", "state", "score", "std", "epochs", "params"]
    rows = []
    for j in order:
        mean, std = res["mean_test_score"][j], res["std_test_score"][j]
        rows.append(
            [
                str(int(res["rank_test_score"][j])),
                str(int(res["trial_number"][j])),
                str(res["state"][j]),
                "nan" if not np.isfinite(mean) else f"{mean:.4f}",
                "nan" if not np.isfinite(std) else f"{std:.4f}",
                str(int(res["n_epochs"][j])),
                _format_params(res["params"][j]),
            ]
        )
    say("top trials:")
    say(format_table(header, rows))
    if args.output:
        out = Path(args.output).expanduser()
        out.parent.mkdir(parents=True, exist_ok=True)
        joblib.dump(search.best_estimator_, out)
        say(f"best estimator -> {out}")
    return 0


def _format_params(params: Mapping[str, Any]) -> str:
    def fmt(v: Any) -> str:
        if isinstance(v, float):
            return f"{v:.4g}"
        return str(v)

    return " ".join(f"{k}={fmt(v)}" for k, v in params.items()) or "(defaults)"


def _describe_storage(storage: Any) -> str:
    if storage is None:
        return "memory"
    if storage == "auto":
        return "skmm_optuna.db (working folder; resume with --study-name)"
    return f"{storage} (resume with --study-name)"
