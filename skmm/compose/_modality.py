"""make_modality_encoder: one encoder per modality in a ColumnTransformer."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sklearn.compose import ColumnTransformer

from skmm.compose._blocks import MODALITY_SEPARATOR

__all__ = ["make_modality_encoder"]


def make_modality_encoder(
    *,
    columns: Mapping[str, Any] | None = None,
    remainder: Any = "drop",
    n_jobs: int | None = None,
    output: str | None = "pandas",
    **encoders: Any,
) -> ColumnTransformer:
    """Build a ``ColumnTransformer`` with one encoder per modality.

    Its output columns are named ``<modality>__<feature>`` (``text__f0``,
    ``image__f0``, ...), which is how fusion estimators and retrievers find
    the modality blocks.  Any plain scikit-learn estimator placed after it is
    early fusion.

    Parameters
    ----------
    columns : dict, optional
        Modality name -> input column(s).  A modality not listed reads the
        column of its own name.
    remainder : {"drop", "passthrough"} or estimator, default="drop"
        What happens to the columns no modality reads.
    n_jobs : int, optional
        Encode modalities in parallel (joblib).
    output : {"pandas", "default"} or None, default="pandas"
        ``set_output(transform=...)``; ``None`` leaves it unset.
    **encoders
        Modality name -> encoder (any transformer), or ``"passthrough"`` for
        numeric columns used as they are.  Names may not contain ``"__"``.

    Returns
    -------
    ColumnTransformer

    Examples
    --------
    >>> import pandas as pd
    >>> from skmm.compose import make_modality_encoder
    >>> from skmm.text import TfidfTextEncoder
    >>> df = pd.DataFrame({"caption": ["a red apple", "blue sky", "a green apple"],
    ...                    "price": [1.0, 2.0, 3.0]})
    >>> enc = make_modality_encoder(
    ...     text=TfidfTextEncoder(n_components=2, random_state=0, verbose=0),
    ...     tabular="passthrough",
    ...     columns={"text": "caption", "tabular": ["price"]},
    ... )
    >>> list(enc.fit_transform(df).columns)
    ['text__f0', 'text__f1', 'tabular__price']
    """
    if not encoders:
        raise ValueError(
            "make_modality_encoder needs at least one modality, e.g. "
            "make_modality_encoder(text=TextEncoder(), image=ImageEncoder())."
        )
    columns = dict(columns or {})
    unknown = sorted(set(columns) - set(encoders))
    if unknown:
        raise ValueError(
            f"columns= names modality(ies) {unknown} that have no encoder; "
            f"the encoders given are {sorted(encoders)}."
        )
    transformers = []
    for name, encoder in encoders.items():
        if MODALITY_SEPARATOR in name:
            raise ValueError(f"modality name {name!r} may not contain '__'")
        transformers.append((name, encoder, columns.get(name, name)))
    ct = ColumnTransformer(
        transformers,
        remainder=remainder,
        n_jobs=n_jobs,
        verbose_feature_names_out=True,
    )
    if output is not None:
        ct.set_output(transform=output)
    return ct
