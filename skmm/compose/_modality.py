"""make_modality_encoder: one encoder per modality in a ColumnTransformer."""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Any

from sklearn.compose import ColumnTransformer

from skmm.compose._blocks import MODALITY_SEPARATOR

__all__ = ["ModalityColumnTransformer", "make_modality_encoder"]

_SHOWN_COLUMNS = 12  # columns of X an error message lists


class ModalityColumnTransformer(ColumnTransformer):
    """The ``ColumnTransformer`` that :func:`make_modality_encoder` returns.

    The same estimator, with the same parameters, except that
    ``fit_transform`` (which ``fit`` calls) and ``transform`` first check
    that a DataFrame ``X`` holds the column each modality reads.  A missing
    one is named with its modality, the columns ``X`` has and the closest of
    them, instead of scikit-learn's "Some column names are not columns of
    the dataframe".
    Its parameters are :class:`~sklearn.compose.ColumnTransformer`'s.

    Examples
    --------
    >>> import pandas as pd
    >>> from skmm.compose import make_modality_encoder
    >>> from skmm.text import TfidfTextEncoder
    >>> enc = make_modality_encoder(text=TfidfTextEncoder(verbose=0))
    >>> enc.fit(pd.DataFrame({"caption": ["a red apple", "blue sky"]}))
    Traceback (most recent call last):
    ...
    ValueError: modality 'text' reads column 'text', which X does not have ...
    """

    def _check_modality_columns(self, X: Any, *, fitting: bool) -> None:
        available = getattr(X, "columns", None)
        if available is None:
            return
        names = [str(c) for c in available]
        for modality, _, columns in self.transformers:
            wanted = [columns] if isinstance(columns, str) else columns
            if not isinstance(wanted, list) or not all(
                isinstance(c, str) for c in wanted
            ):
                continue  # positions, masks, callables: sklearn checks them
            missing = [c for c in wanted if c not in available]
            if not missing:
                continue
            shown = ", ".join(repr(c) for c in names[:_SHOWN_COLUMNS])
            if len(names) > _SHOWN_COLUMNS:
                shown += f", ... ({len(names)} in all)"
            close = difflib.get_close_matches(missing[0], names, n=1)
            hint = f"Did you mean {close[0]!r}? " if close else ""
            what = (
                f"column {missing[0]!r}, which X does not have"
                if len(missing) == 1
                else f"columns {missing}, which X does not have"
            )
            fix = (
                f"Name its column(s) with make_modality_encoder(columns="
                f"{{{modality!r}: ...}})."
                if fitting
                else "X must hold the columns the encoder was fitted on."
            )
            raise ValueError(
                f"modality {modality!r} reads {what} (X's columns: {shown}). "
                f"{hint}{fix}"
            )

    def fit_transform(self, X: Any, y: Any = None, **params: Any) -> Any:
        """Check the modality columns, then as ``ColumnTransformer.fit_transform``."""
        self._check_modality_columns(X, fitting=True)
        return super().fit_transform(X, y, **params)

    def transform(self, X: Any, **params: Any) -> Any:
        """Check the modality columns, then as ``ColumnTransformer.transform``."""
        self._check_modality_columns(X, fitting=False)
        return super().transform(X, **params)


def make_modality_encoder(
    *,
    columns: Mapping[str, Any] | None = None,
    remainder: Any = "drop",
    n_jobs: int | None = None,
    output: str | None = "pandas",
    **encoders: Any,
) -> ModalityColumnTransformer:
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
    ModalityColumnTransformer
        A ``ColumnTransformer`` whose ``fit`` names the modality of a column
        that ``X`` lacks.

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
    ct = ModalityColumnTransformer(
        transformers,
        remainder=remainder,
        n_jobs=n_jobs,
        verbose_feature_names_out=True,
    )
    if output is not None:
        ct.set_output(transform=output)
    return ct
