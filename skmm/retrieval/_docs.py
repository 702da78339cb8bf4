"""The docstring entries the retrievers share, written once.

A retriever's docstring names a shared entry by a line holding only
``{name}`` (indented like the entries around it); :func:`fill_doc` puts the
text in its place, on the class and on the methods it defines, so help(),
Sphinx and the doctests read the full docstring.
"""

from __future__ import annotations

import re
import textwrap
from typing import Any, TypeVar

T = TypeVar("T")

SHARED_DOCS = {
    "block_params": """\
query : str, default="text"
    Modality of the queries at fit (the block whose rows describe the
    ``target`` rows).  Either direction can be searched after fit.
target : str, default="image"
    Modality of the gallery items at fit.
modalities : dict, optional
    Modality name -> columns (width, slice or list), for numpy input
    without ``modality__feature`` column names; see
    :func:`skmm.compose.resolve_modalities`.""",
    "search_index_param": """\
search_index : {"exact", "faiss-flat", "faiss-ivf", "faiss-hnsw"} or index, \
default="exact"
    The index :meth:`index` builds (an index object is cloned).  See
    :class:`ExactIndex` and :class:`FaissIndex`.""",
    "fitted_attrs": """\
n_features_in_ : int
    Width of the table seen at fit.
feature_names_in_ : ndarray of str
    Its column names (DataFrame input only).
modality_columns_ : dict
    ``{query: positions, target: positions}`` in the fitted table.
n_pairs_ : int
    Complete pairs used at fit.
embed_dim_ : int
    Dimension of the shared space.""",
    "scaling_attrs": """\
x_mean_, x_scale_ : dict
    Modality -> per-feature mean and scale used to standardise.""",
    "gallery_attr": """\
gallery_index_ : index
    The gallery built by :meth:`index` (absent before).""",
    "fit_X_param": """\
X : DataFrame or array-like of shape (n_samples, n_features)
    Rows holding the ``query`` and the ``target`` blocks (found from
    ``modality__feature`` column names, or from ``modalities``).
    Rows missing either (NaN) are left out with a warning.""",
}

_PLACEHOLDER = re.compile(r"^([ \t]*)\{(\w+)\}\n", re.M)


def _fill(doc: str | None, entries: dict[str, str]) -> str | None:
    if not doc:  # None under python -OO
        return doc

    def entry(match: re.Match) -> str:
        indent, name = match.groups()
        if name not in entries:
            return match.group(0)
        return textwrap.indent(entries[name], indent) + "\n"

    return _PLACEHOLDER.sub(entry, doc)


def fill_doc(cls: T | None = None, /, **extra: str) -> Any:
    """Put the shared entries in the docstrings of ``cls`` and its methods.

    Used as ``@fill_doc``, or as ``@fill_doc(name=text, ...)`` to add
    entries of one module's own.
    """
    entries = {**SHARED_DOCS, **extra}

    def fill(cls: T) -> T:
        cls.__doc__ = _fill(cls.__doc__, entries)
        for value in vars(cls).values():
            if callable(value) and getattr(value, "__doc__", None):
                value.__doc__ = _fill(value.__doc__, entries)
        return cls

    return fill if cls is None else fill(cls)
