"""Cross-modal retrieval: shared-space retrievers and vector indexes.

A retriever is fitted on rows that pair two modality blocks (``query="text",
target="image"``: row ``i``'s text describes row ``i``'s image) and embeds
either modality into one shared space:

- :class:`RidgeRetriever`, :class:`CCARetriever`, :class:`PLSRetriever`:
  linear baselines;
- :class:`ContrastiveRetriever`: a projection tower per modality trained
  with symmetric InfoNCE and a learnable temperature (through skorch);
- :class:`TwoTowerRetriever`: the pretrained encoders themselves fine-tuned
  as two towers (partial unfreezing or LoRA) on raw texts and images.

All share ``fit(X)``, ``embed(X, modality=...)``, ``index(X_gallery)``,
``search(X_query, k) -> (indices, scores)`` and ``score(X)`` (hit-rate
Recall@10), in either direction.  :class:`ExactIndex` (chunked torch matrix
product) and :class:`FaissIndex` (flat, IVF, HNSW) are the gallery indexes.

Examples
--------
>>> from skmm.datasets import make_paired_modalities
>>> from skmm.retrieval import CCARetriever
>>> data = make_paired_modalities(200, latent_dim=4, random_state=0).data
>>> train, test = data[:150], data[150:]
>>> r = CCARetriever(n_components=4).fit(train)
>>> indices, scores = r.index(test).search(test, k=5)       # text -> image
>>> indices.shape, scores.dtype
((50, 5), dtype('float32'))
>>> r = r.index(test, modality="text")                       # image -> text
>>> indices, scores = r.search(test, k=5, modality="image")
>>> r.score(test, metric="recall@1") > 0.8
True
"""

from __future__ import annotations

from skmm.registry import retrievers
from skmm.retrieval._base import BaseRetriever
from skmm.retrieval._contrastive import ContrastiveRetriever
from skmm.retrieval._exact_index import ExactIndex
from skmm.retrieval._faiss_index import FaissIndex
from skmm.retrieval._index import BaseIndex, load_index
from skmm.retrieval._linear import CCARetriever, PLSRetriever, RidgeRetriever
from skmm.retrieval._sharded import (
    build_index_from_shards,
    estimate_build_memory,
    iter_shards,
    search_shards,
)
from skmm.retrieval._two_tower import TwoTowerRetriever
from skmm.retrieval._validation import MissingModalityWarning

__all__ = [
    "BaseIndex",
    "BaseRetriever",
    "CCARetriever",
    "ContrastiveRetriever",
    "ExactIndex",
    "FaissIndex",
    "MissingModalityWarning",
    "PLSRetriever",
    "RidgeRetriever",
    "TwoTowerRetriever",
    "build_index_from_shards",
    "estimate_build_memory",
    "iter_shards",
    "load_index",
    "search_shards",
]

_BUILTIN_RETRIEVERS = {
    "ridge": RidgeRetriever,
    "cca": CCARetriever,
    "pls": PLSRetriever,
    "contrastive": ContrastiveRetriever,
    "two_tower": TwoTowerRetriever,
}

for _name, _cls in _BUILTIN_RETRIEVERS.items():
    # the registry may already list them (its builtins, or an earlier import)
    if _name not in retrievers:
        try:
            retrievers.register(_name, _cls)
        except ValueError:  # a plugin that failed to import holds the name
            pass
del _name, _cls
