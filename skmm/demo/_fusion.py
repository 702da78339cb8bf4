"""The demo's fusion models: ``FusionSearchCV`` over the fusion strategies,
then ``compare_models`` of the best one against a fine-tuned fusion and
logistic baselines, on the same grouped folds."""

from __future__ import annotations

import hashlib
import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from skmm.demo._console import df_text, table

__all__ = ["compare_to_baselines", "search_fusions"]


def search_fusions(
    X: Any, y: np.ndarray, groups: np.ndarray, out: Path, seed: int, quick: bool
) -> tuple[Any, list[list[str]], dict]:
    """Search the fusion strategies for the emoji group (3 grouped folds).

    The study lives in ``out / "search.db"`` under a name derived from the
    data's shape and the settings, so a rerun resumes it.

    Returns
    -------
    search : FusionSearchCV
        Fitted.
    rows : list of list of str
        The 5 best trials, as printed.
    figures : dict
        :func:`~skmm.model_selection.plot_search`'s figure files.
    """
    from sklearn.model_selection import GroupKFold

    from skmm.fusion import FusionClassifier
    from skmm.model_selection import FusionSearchCV, plot_search

    n_trials = 4 if quick else 12
    epochs = 5 if quick else 12
    est = FusionClassifier(max_epochs=epochs, random_state=seed, device="auto")
    cv = list(GroupKFold(3).split(X, y, groups))
    key = hashlib.sha1(
        json.dumps([X.shape, int(seed), epochs, bool(quick)]).encode()
    ).hexdigest()[:10]
    search = FusionSearchCV(
        est,
        n_trials=n_trials,
        cv=cv,
        storage=out / "search.db",
        study_name=f"demo-{key}",
        random_state=seed,
        verbose=1,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        search.fit(X, y)
    res = search.cv_results_
    order = np.argsort(res["rank_test_score"])[:5]
    rows = []
    for j in order:
        p = res["params"][j]
        knobs = ", ".join(
            f"{k.split('__')[-1]}={v}" for k, v in p.items() if k.startswith("fusion__")
        )
        rows.append(
            [
                str(res["trial_number"][j]),
                str(p.get("fusion")),
                f"{p.get('lr', float('nan')):.1e}",
                str(p.get("hidden_dim")),
                knobs or "-",
                f"{res['mean_test_score'][j]:.3f}",
                str(res["state"][j]),
            ]
        )
    states = list(res["state"])
    print(
        f"  {len(states)} trials ({states.count('PRUNED')} pruned, "
        f"{states.count('FAIL')} failed), study {search.study_name_!r} in "
        f"{out / 'search.db'}"
    )
    print(table(rows, ["trial", "fusion", "lr", "hidden", "knobs", "acc", "state"]))
    figures = plot_search(search, out, prefix="search")
    return search, rows, figures


def compare_to_baselines(
    search: Any,
    X: Any,
    raw: Any,
    y: np.ndarray,
    groups: np.ndarray,
    out: Path,
    seed: int,
    quick: bool,
) -> Any:
    """``compare_models`` of the searched fusion model, the same strategy
    fine-tuning the encoders, and logistic regressions on the text, the image
    and both; writes ``out / "compare_models.png"`` and returns the table."""
    import pandas as pd
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GroupKFold
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from skmm.fusion import FusionClassifier
    from skmm.image import ImageEncoder
    from skmm.model_selection import compare_models
    from skmm.text import TextEncoder

    text_cols = [c for c in X.columns if c.startswith("text__")]
    image_cols = [c for c in X.columns if c.startswith("image__")]

    def logistic(cols):
        return make_pipeline(
            ColumnTransformer([("keep", "passthrough", cols)]),
            StandardScaler(),
            LogisticRegression(C=0.01, max_iter=500),
        )

    fusion = search.best_params_["fusion"]
    features = ColumnTransformer(
        [("keep", "passthrough", text_cols + image_cols)],
        verbose_feature_names_out=False,
    ).set_output(transform="pandas")
    # the drawings' MobileNetV2 blocks fine-tuned under the searched fusion
    tuned = FusionClassifier(
        fusion=fusion,
        encoders={
            "text": TextEncoder("minilm", cache=True, verbose=0),
            "image": ImageEncoder("mobilenet_v2", size=128, cache=True, verbose=0),
        },
        columns={"text": "raw_text", "image": "raw_image"},
        unfreeze={"text": 0, "image": 2},
        max_epochs=4 if quick else 12,
        random_state=seed,
        device="auto",
    )
    X = pd.concat([X, raw], axis=1)
    models = {
        f"FusionClassifier ({fusion}, searched)": make_pipeline(
            features, search.best_estimator_
        ),
        f"FusionClassifier ({fusion}, image fine-tuned)": tuned,
        "LogisticRegression (text + image)": logistic(text_cols + image_cols),
        "LogisticRegression (text)": logistic(text_cols),
        "LogisticRegression (image)": logistic(image_cols),
    }
    cv = list(GroupKFold(3).split(X, y, groups))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        table = compare_models(
            models,
            X,
            y,
            cv=cv,
            scoring="accuracy",
            plot=out / "compare_models.png",
        )
    show = table[["mean_accuracy", "std_accuracy", "mean_fit_time", "p_value"]]
    print(df_text(show))
    return table
