"""The docstring fragments the retrievers share, written once.

A retriever's docstring names one by a line holding only ``{name}``;
:func:`skmm.utils._docs.fill_doc` (``@fill_doc(RETRIEVER_DOCS)``) puts the
text in its place at import, on the class and on the methods it defines.
"""

from __future__ import annotations

__all__ = ["RETRIEVER_DOCS"]

RETRIEVER_DOCS = {
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
