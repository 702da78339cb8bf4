"""FaissIndex: FAISS inner-product indexes (flat, IVF, HNSW).

FAISS is an optional dependency, imported on first use; the index is
pickled and saved as FAISS's own serialisation.
"""

from __future__ import annotations

import math
import numbers
import warnings
from typing import ClassVar

import numpy as np

from skmm.retrieval._index import BaseIndex
from skmm.utils._imports import import_optional
from skmm.utils._params import estimator_init
from skmm.utils._sklearn_compat import Interval, StrOptions

__all__ = ["FaissIndex"]


@estimator_init
class FaissIndex(BaseIndex):
    """FAISS inner-product index: flat (exact), IVF or HNSW.

    Needs the ``faiss`` extra (``pip install "skmm[faiss]"``).  ``"flat"``
    is exact (``IndexFlatIP``; among tied scores FAISS's own order);
    ``"ivf"`` clusters the gallery into ``nlist`` lists and scans
    ``nprobe`` of them (trained on the first ``add``, which needs at least
    ``nlist`` vectors); ``"hnsw"`` is a graph index (``IndexHNSWFlat``).

    Parameters
    ----------
    kind : {"flat", "ivf", "hnsw"}, default="flat"
        Index type.
    metric : {"ip", "cosine"}, default="ip"
        ``"cosine"`` L2-normalises gallery and queries.
    nlist : int, default=1024
        IVF: number of clusters (clipped to the size of the first ``add``
        with a warning).
    nprobe : int, default=16
        IVF: clusters scanned per query.
    hnsw_m : int, default=32
        HNSW: links per node.
    ef_construction : int, default=80
        HNSW: candidate list size while building.
    ef_search : int, default=128
        HNSW: candidate list size while searching (recall vs speed).
    n_threads : int, optional
        FAISS's OpenMP threads (its default when None).

    Examples
    --------
    >>> import numpy as np
    >>> from skmm.retrieval import FaissIndex
    >>> gallery = np.random.default_rng(0).normal(size=(100, 8))
    >>> index = FaissIndex(kind="flat").add(gallery)  # doctest: +SKIP
    >>> index.search(gallery[:2], k=1)[0]  # doctest: +SKIP
    array([[0], [1]])
    """

    _parameter_constraints: ClassVar[dict] = {
        "kind": [StrOptions({"flat", "ivf", "hnsw"})],
        "metric": [StrOptions({"ip", "cosine"})],
        "nlist": [Interval(numbers.Integral, 1, None, closed="left")],
        "nprobe": [Interval(numbers.Integral, 1, None, closed="left")],
        "hnsw_m": [Interval(numbers.Integral, 2, None, closed="left")],
        "ef_construction": [Interval(numbers.Integral, 1, None, closed="left")],
        "ef_search": [Interval(numbers.Integral, 1, None, closed="left")],
        "n_threads": [Interval(numbers.Integral, 1, None, closed="left"), None],
    }

    kind: str = "flat"
    metric: str = "ip"
    nlist: int = 1024
    nprobe: int = 16
    hnsw_m: int = 32
    ef_construction: int = 80
    ef_search: int = 128
    n_threads: int | None = None

    @staticmethod
    def _faiss():
        return import_optional("faiss", extra="faiss", package="faiss-cpu")

    def _build(self, faiss, X: np.ndarray):
        d = X.shape[1]
        ip = faiss.METRIC_INNER_PRODUCT
        if self.kind == "flat":
            return faiss.IndexFlatIP(d)
        if self.kind == "hnsw":
            index = faiss.IndexHNSWFlat(d, self.hnsw_m, ip)
            index.hnsw.efConstruction = self.ef_construction
            return index
        nlist = self.nlist
        if X.shape[0] < nlist:
            nlist = max(1, int(math.sqrt(X.shape[0])))
            warnings.warn(
                f"FaissIndex(kind='ivf') needs at least nlist={self.nlist} vectors "
                f"to train; the first add has {X.shape[0]}, so nlist={nlist} is "
                "used.",
                UserWarning,
                stacklevel=4,
            )
        quantizer = faiss.IndexFlatIP(d)
        index = faiss.IndexIVFFlat(quantizer, d, nlist, ip)
        index.train(X)  # faiss's wrapper keeps a reference to the quantizer
        return index

    def _configure(self, index) -> None:
        if self.kind == "hnsw":
            index.hnsw.efSearch = self.ef_search
        elif self.kind == "ivf":
            index.nprobe = self.nprobe

    def train(self, X) -> FaissIndex:
        """Build the empty index, trained on the sample ``X``, without adding it.

        For a gallery added in several parts (shard by shard, see
        :func:`~skmm.retrieval.build_index_from_shards`): IVF learns its
        ``nlist`` clusters from ``X``, and every later :meth:`add` only
        assigns vectors to them.  Flat and HNSW indexes need no training;
        for them this only fixes the dimension.

        Parameters
        ----------
        X : array-like of shape (n_samples, dim)
            The training sample (normalised first for ``metric="cosine"``).

        Returns
        -------
        self

        Raises
        ------
        ValueError
            When the index already holds vectors.

        Examples
        --------
        >>> import numpy as np
        >>> from skmm.retrieval import FaissIndex
        >>> X = np.random.default_rng(0).normal(size=(200, 8))
        >>> index = FaissIndex(kind="ivf", nlist=4).train(X)  # doctest: +SKIP
        >>> len(index.add(X[:50]).add(X[50:]))  # doctest: +SKIP
        200
        """
        from skmm.retrieval._index import _check_vectors, _l2_normalize

        self._validate_params()
        if len(self):
            raise ValueError(
                f"train() builds an empty index; this one holds {len(self)} "
                "vectors (reset() it first)"
            )
        arr = _check_vectors(X, "X", None)
        if arr.shape[0] == 0:
            raise ValueError("train() needs at least one vector")
        if self.metric == "cosine":
            arr = _l2_normalize(arr)
        faiss = self._faiss()
        if self.n_threads is not None:
            faiss.omp_set_num_threads(self.n_threads)
        self._store = self._build(faiss, arr)
        return self

    def _add(self, X: np.ndarray) -> None:
        faiss = self._faiss()
        if self.n_threads is not None:
            faiss.omp_set_num_threads(self.n_threads)
        if getattr(self, "_store", None) is None:
            self._store = self._build(faiss, X)
        elif self._store.d != X.shape[1]:
            raise ValueError(
                f"X has {X.shape[1]} dimensions, but the index was trained on "
                f"{self._store.d}-dimensional vectors."
            )
        self._store.add(X)

    def _search(self, Q: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        faiss = self._faiss()
        if self.n_threads is not None:
            faiss.omp_set_num_threads(self.n_threads)
        self._configure(self._store)
        scores, idx = self._store.search(Q, k)
        return idx, scores

    def _state(self) -> dict[str, np.ndarray]:
        return {"faiss_index": self._faiss().serialize_index(self._store)}

    def _set_state(self, arrays: dict[str, np.ndarray]) -> None:
        faiss = self._faiss()
        self._store = faiss.deserialize_index(np.asarray(arrays["faiss_index"]))

    def __getstate__(self) -> dict:
        state = dict(super().__getstate__())
        if state.get("_store") is not None:
            state["_store"] = self._faiss().serialize_index(self._store)
        return state

    def __setstate__(self, state: dict) -> None:
        store = state.get("_store")
        super().__setstate__(state)
        if isinstance(store, np.ndarray):
            self._store = self._faiss().deserialize_index(store)
