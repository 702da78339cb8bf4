"""The docstring entries of the encoders' shared parameters, written once.

:class:`~skmm.base.BaseEncoder` declares the constraints of ``cache``,
``on_error``, ``verbose``, ``device`` and ``pickle_weights`` once; their
numpydoc entries (and those of the fitted ``n_features_in_`` and
``feature_names_in_``, the input of ``transform`` and the sections of
``get_feature_names_out``) live here.  An encoder's docstring names one by a
``{cache}`` line and its class is decorated with
``@fill_doc(encoder_docs("image"))`` (:func:`skmm.utils._docs.fill_doc`); the
modality only changes how a cell and a bad one are called.  An encoder whose
entry says something of its own writes it out instead.
"""

from __future__ import annotations

import textwrap

__all__ = ["SHARED_DOCS", "encoder_docs"]

# what a modality's cells are called in the shared entries:
# (one cell, a bad cell, what the error names)
_CELLS = {
    "text": ("item", "a non-text cell", "the column and row"),
    "image": ("item", "an unreadable image", "the column, the row and the path"),
    "audio": ("clip", "an unreadable cell", "the column, row and path"),
    "video": ("clip", "an unreadable cell", "the column, row and path"),
}

# the entries that read the same for every modality
SHARED_DOCS = {
    "verbose": """\
verbose : int, default=1
    Show a progress bar on long encodes; 0 is silent.""",
    "device": """\
device : {"auto", "cpu", "cuda", ...}, default="auto"
    Where the model runs; ``"auto"`` picks CUDA when present.""",
    "pickle_weights": """\
pickle_weights : bool, default=False
    Store the model inside the pickle (for machines without the weights).""",
    "n_features_in_": """\
n_features_in_ : int
    Number of input columns.""",
    "feature_names_in_": """\
feature_names_in_ : ndarray of str
    Input column names, when fitted on a DataFrame.""",
    # the entries of the parameter groups in skmm.base._params, in their
    # order after an encoder's batch_size (which each encoder words itself)
    "encoder_params": "{cache}\n{on_error}\n{verbose}",
    "device_encoder_params": "{device}\n{encoder_params}",
    "pretrained_encoder_params": "{device_encoder_params}\n{pickle_weights}",
    "model_path_": """\
model_path_ : str
    The resolved model folder.""",
    # the fitted attributes sklearn's input checks set, in every encoder
    "input_attributes": "{n_features_in_}\n{feature_names_in_}",
    "transform_X": """\
X : DataFrame, Series, list or array
    The same column layout as seen in ``fit``.""",
    # the Parameters and Returns of every get_feature_names_out
    "names_out": """\
Parameters
----------
input_features : array-like of str or None
    Input column names; defaults to ``feature_names_in_``.

Returns
-------
ndarray of str""",
}


def _entry(head: str, text: str) -> str:
    return (
        head
        + "\n"
        + textwrap.fill(text, 76, initial_indent=" " * 4, subsequent_indent=" " * 4)
    )


def encoder_docs(modality: str) -> dict[str, str]:
    """The shared encoder entries, worded for ``modality``'s cells.

    Parameters
    ----------
    modality : {"text", "image", "audio", "video"}
        Whose cells the ``cache`` and ``on_error`` entries speak of.

    Returns
    -------
    dict of str to str
        Fragment name -> numpydoc entry: ``cache``, ``on_error``,
        ``verbose``, ``device``, ``pickle_weights``, ``n_features_in_`` and
        ``feature_names_in_``; ``encoder_params``,
        ``device_encoder_params`` and ``pretrained_encoder_params``, the
        entries of the parameter groups after ``batch_size``;
        ``model_path_``; ``input_attributes`` (both of the above);
        ``transform_X``, the input of ``transform``;
        and ``names_out``, the Parameters and Returns sections of
        ``get_feature_names_out``.

    Examples
    --------
    >>> print(encoder_docs("audio")["cache"])
    cache : bool, path or None, default=None
        Cache embeddings on disk per clip (``True``: ``$SKMM_CACHE_DIR`` or
        ``~/.cache/skmm/embeddings``); see :mod:`skmm.cache`.
    """
    cell, bad, names = _CELLS[modality]
    return {
        "cache": _entry(
            "cache : bool, path or None, default=None",
            f"Cache embeddings on disk per {cell} (``True``: ``$SKMM_CACHE_DIR`` "
            "or ``~/.cache/skmm/embeddings``); see :mod:`skmm.cache`.",
        ),
        "on_error": _entry(
            'on_error : {"raise", "nan"}, default="raise"',
            f"What {bad} does: raise an error naming {names}, or become a NaN "
            "row (with a warning).",
        ),
        **SHARED_DOCS,
    }
