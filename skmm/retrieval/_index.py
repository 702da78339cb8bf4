"""Nearest-neighbour indexes over embedding vectors: exact (torch) and FAISS.

Both speak one interface: ``add(X)``, ``search(Q, k) -> (indices, scores)``,
``save(path)`` / ``load(path)``, ``len(index)``, ``reset()``.  Indexes are
sklearn-style objects (``get_params`` / ``set_params`` / ``clone``), so a
retriever's ``search_index`` parameter can be an index and a grid search can
tune ``search_index__ef_search``.

Saved files are ``.npz`` archives (no pickle): the class name, the
parameters as JSON and the data (the vectors, or FAISS's serialised index).
"""

from __future__ import annotations

import contextlib
import json
import math
import numbers
import warnings
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from sklearn.base import BaseEstimator

from skmm.exceptions import InvalidFileError
from skmm.utils._device import resolve_device
from skmm.utils._imports import import_optional
from skmm.utils._sklearn_compat import Interval, StrOptions

__all__ = ["BaseIndex", "ExactIndex", "FaissIndex", "load_index"]

_FORMAT_VERSION = 1


def _check_vectors(X: Any, what: str, dim: int | None) -> np.ndarray:
    arr = np.asarray(X, dtype=np.float32)
    if arr.ndim == 1:
        raise ValueError(
            f"{what} must be a 2-D array (n, dim); got a 1-D array. Reshape a "
            "single vector with x.reshape(1, -1)."
        )
    if arr.ndim != 2:
        raise ValueError(f"{what} must be a 2-D array (n, dim); got shape {arr.shape}")
    if dim is not None and arr.shape[1] != dim:
        raise ValueError(
            f"{what} has {arr.shape[1]} dimensions, but the index holds "
            f"{dim}-dimensional vectors."
        )
    if arr.size and not np.isfinite(arr).all():
        raise ValueError(
            f"{what} contains NaN or infinite values; drop those rows first."
        )
    return np.ascontiguousarray(arr)


def _l2_normalize(x: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.maximum(norms, np.finfo(np.float32).tiny)


class BaseIndex(BaseEstimator):
    """Interface shared by :class:`ExactIndex` and :class:`FaissIndex`."""

    _parameter_constraints: ClassVar[dict] = {}

    # subclasses: _add(vectors), _search(queries, k), _state(), _set_state()
    @property
    def dim(self) -> int | None:
        """Vector dimension (None while empty)."""
        return getattr(self, "_dim", None)

    def __len__(self) -> int:
        return int(getattr(self, "_ntotal", 0))

    def reset(self) -> BaseIndex:
        """Remove every vector (parameters are kept)."""
        for name in ("_dim", "_ntotal", "_store"):
            if hasattr(self, name):
                delattr(self, name)
        return self

    def add(self, X: Any) -> BaseIndex:
        """Add vectors; their ids continue from ``len(self)``.

        Parameters
        ----------
        X : array-like of shape (n, dim)
            Finite vectors (converted to float32).

        Returns
        -------
        self
        """
        self._validate_params()
        arr = _check_vectors(X, "X", self.dim)
        if arr.shape[0] == 0:
            return self
        if getattr(self, "metric", "ip") == "cosine":
            arr = _l2_normalize(arr)
        self._add(arr)
        self._dim = arr.shape[1]
        self._ntotal = len(self) + arr.shape[0]
        return self

    def search(self, Q: Any, k: int = 10) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` best gallery ids of each query vector, best first.

        Parameters
        ----------
        Q : array-like of shape (n_queries, dim)
            Query vectors.
        k : int, default=10
            Number of results; more than ``len(self)`` is clipped with a
            warning.

        Returns
        -------
        indices : ndarray of shape (n_queries, k), int64
            Gallery ids (the order of ``add``), ``-1`` where an approximate
            index found fewer than ``k``.
        scores : ndarray of shape (n_queries, k), float32
            Inner products (cosine similarities for ``metric="cosine"``).
        """
        if isinstance(k, bool) or not isinstance(k, numbers.Integral) or k < 1:
            raise ValueError(f"k must be a positive int, got {k!r}")
        if len(self) == 0:
            raise ValueError(
                f"The {type(self).__name__} is empty: add gallery vectors before "
                "searching."
            )
        q = _check_vectors(Q, "Q", self.dim)
        if k > len(self):
            warnings.warn(
                f"k={k} is larger than the gallery ({len(self)} items); returning "
                f"{len(self)} results per query.",
                UserWarning,
                stacklevel=2,
            )
            k = len(self)
        if q.shape[0] == 0:
            return np.empty((0, k), np.int64), np.empty((0, k), np.float32)
        if getattr(self, "metric", "ip") == "cosine":
            q = _l2_normalize(q)
        idx, scores = self._search(q, int(k))
        return (
            np.ascontiguousarray(idx, dtype=np.int64),
            np.ascontiguousarray(scores, dtype=np.float32),
        )

    # ---------------------------------------------------------- persistence
    def save(self, path: str | Path) -> None:
        """Write the index and its parameters to ``path`` (an ``.npz`` file).

        Parameters
        ----------
        path : str or Path
            Written as given (no suffix is added).  The archive is written
            to a temporary file beside it and renamed into place, so an
            interrupted save leaves no truncated index behind.
        """
        import os
        import threading

        arrays = self._state() if len(self) else {}
        meta = {
            "class": type(self).__name__,
            "format": _FORMAT_VERSION,
            "params": self.get_params(deep=False),
            "dim": self.dim,
            "ntotal": len(self),
        }
        target = Path(path)
        if not target.parent.is_dir():
            raise FileNotFoundError(f"No folder {target.parent} to save {target} in")
        tmp = target.with_name(
            f".{target.name}.{os.getpid()}-{threading.get_ident()}.tmp"
        )
        try:
            with open(tmp, "wb") as fh:
                np.savez(fh, meta=np.asarray(json.dumps(meta)), **arrays)
            os.replace(tmp, target)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise

    @classmethod
    def load(cls, path: str | Path) -> BaseIndex:
        """Read an index written by :meth:`save`.

        Parameters
        ----------
        path : str or Path

        Returns
        -------
        index
            Of the class that saved it (``BaseIndex.load`` reads any).

        Raises
        ------
        FileNotFoundError, IsADirectoryError, PermissionError
            When ``path`` cannot be opened.
        skmm.exceptions.InvalidFileError
            When the file is not an index written by :meth:`save`: empty,
            truncated, another format (an image, a pickle, ...) or damaged.
            The message names the file and what was found.
        TypeError
            When ``cls`` is a subclass and the file holds another one.
        """
        meta, arrays = _read_index_file(path)
        klass = {c.__name__: c for c in (ExactIndex, FaissIndex)}[meta["class"]]
        if cls is not BaseIndex and klass is not cls:
            raise TypeError(f"{path} holds a {klass.__name__}, not a {cls.__name__}")
        try:
            index = klass(**meta["params"])
            index._validate_params()
        except (TypeError, ValueError) as exc:
            raise _bad_index(path, f"its {klass.__name__} parameters: {exc}") from exc
        if meta["ntotal"]:
            try:
                index._set_state(arrays)
            except ImportError:
                raise  # FAISS missing: MissingDependencyError says what to install
            except Exception as exc:  # FAISS's RuntimeError, a missing array, ...
                raise _bad_index(
                    path, f"its {klass.__name__} data: {type(exc).__name__}: {exc}"
                ) from exc
            index._dim = int(meta["dim"])
            index._ntotal = int(meta["ntotal"])
        return index

    def __sklearn_clone__(self) -> BaseIndex:
        # a clone is a new, empty index with the same parameters
        return type(self)(**self.get_params(deep=False))

    # subclass hooks
    def _add(self, X: np.ndarray) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _search(self, Q: np.ndarray, k: int):  # pragma: no cover - abstract
        raise NotImplementedError

    def _state(self) -> dict[str, np.ndarray]:  # pragma: no cover - abstract
        raise NotImplementedError

    def _set_state(self, arrays: dict[str, np.ndarray]) -> None:  # pragma: no cover
        raise NotImplementedError


_EXPECTED_INDEX = (
    "an .npz archive written by ExactIndex.save or FaissIndex.save "
    "(`skmm index` writes one)"
)

# the first bytes of formats an index file is mistaken for
_MAGIC = (
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"PAR1", "a Parquet file"),
    (b"\x93NUMPY", "a single NumPy array (.npy)"),
    (b"\x1f\x8b", "a gzip file"),
    (b"\x80", "a Python pickle (joblib) file"),
    (b"SQLite format 3", "an SQLite database"),
    (b"{", "JSON text"),
)


def _file_kind(head: bytes) -> str:
    """What the first bytes of a file look like (for error messages).

    A known format's magic bytes name it; otherwise the bytes are "text"
    when nearly all of them decode as UTF-8 printable characters (a stray
    Latin-1 accent still counts as text), else binary data.
    """
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            return kind
    chars = head.decode("utf-8", errors="replace")
    odd = sum(c == "\ufffd" or (c < " " and c not in "\t\n\r") for c in chars)
    if chars and odd > 0.1 * len(chars):
        return "binary data of an unknown format"
    return "text"


def _bad_index(path: Any, problem: str) -> InvalidFileError:
    return InvalidFileError(
        f"{path} does not hold an skmm index: {problem}; expected {_EXPECTED_INDEX}",
        path=path,
    )


def _read_index_file(path: Any) -> tuple[dict, dict[str, np.ndarray]]:
    """The checked metadata and the arrays of an index file.

    Every way a file can fail to be an index (empty, truncated, another
    format, a damaged archive or metadata) becomes one
    :class:`~skmm.exceptions.InvalidFileError` naming the file; a file that
    cannot be opened raises the usual ``OSError``.
    """
    import zipfile
    import zlib

    with open(path, "rb") as fh:  # FileNotFoundError & co. as they are
        head = fh.read(1024)
    if not head:
        raise _bad_index(path, "the file is empty")
    if not head.startswith(b"PK"):
        raise _bad_index(path, f"the file holds {_file_kind(head)}")
    try:
        with np.load(path, allow_pickle=False) as data:
            if "meta" not in data.files:
                raise _bad_index(
                    path,
                    "the archive has no 'meta' entry (it holds "
                    f"{', '.join(data.files) or 'nothing'})",
                )
            meta = json.loads(str(data["meta"]))
            arrays = {k: data[k] for k in data.files if k != "meta"}
    except InvalidFileError:
        raise
    except (zipfile.BadZipFile, zlib.error, EOFError, ValueError, KeyError) as exc:
        cut = isinstance(exc, (zipfile.BadZipFile, EOFError, zlib.error))
        what = "truncated or damaged" if cut else "damaged"
        raise _bad_index(
            path, f"the archive is {what} ({type(exc).__name__}: {exc})"
        ) from exc
    known = ("ExactIndex", "FaissIndex")
    if not isinstance(meta, dict) or meta.get("class") not in known:
        cls = meta.get("class") if isinstance(meta, dict) else None
        raise _bad_index(path, f"its metadata names no skmm index class (got {cls!r})")
    if not isinstance(meta.get("format"), int) or meta["format"] > _FORMAT_VERSION:
        raise _bad_index(
            path,
            f"its format {meta.get('format')!r} is not one this skmm reads "
            f"(up to {_FORMAT_VERSION}); upgrade skmm or save the index again",
        )
    ntotal, dim = meta.get("ntotal"), meta.get("dim")
    if (
        not isinstance(meta.get("params"), dict)
        or not isinstance(ntotal, int)
        or ntotal < 0
        or (ntotal and not isinstance(dim, int))
    ):
        raise _bad_index(path, "its metadata lacks params, ntotal or dim")
    vectors = arrays.get("vectors")
    if ntotal and vectors is not None and vectors.shape != (ntotal, dim):
        raise _bad_index(
            path,
            f"it records {ntotal} vectors of dimension {dim} but holds an "
            f"array of shape {vectors.shape}",
        )
    return meta, arrays


def load_index(path: str | Path) -> BaseIndex:
    """Read any index written by ``save``.

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    BaseIndex
        An :class:`ExactIndex` or :class:`FaissIndex`, as saved.

    Raises
    ------
    skmm.exceptions.InvalidFileError
        When the file is not an index (empty, truncated, another format or
        damaged); the message names the file.  See :meth:`BaseIndex.load`.

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> from skmm.retrieval import ExactIndex, load_index
    >>> index = ExactIndex().add(np.eye(3, dtype=np.float32))
    >>> path = os.path.join(tempfile.mkdtemp(), "gallery.npz")
    >>> index.save(path)
    >>> len(load_index(path))
    3
    """
    return BaseIndex.load(path)


class ExactIndex(BaseIndex):
    """Exact inner-product search: chunked matrix product and top-k in torch.

    The gallery is scored ``chunk_size`` rows at a time against blocks of at
    most ``query_chunk_size`` queries, keeping a running top-k, so the
    memory beyond the stored vectors is bounded by ``query_chunk_size *
    chunk_size`` floats whatever the gallery size.

    Ties follow :mod:`skmm.metrics`' rule: among equal scores the lower
    gallery id ranks first, so results equal a stable sort of the full
    score matrix.

    Parameters
    ----------
    metric : {"ip", "cosine"}, default="ip"
        ``"cosine"`` L2-normalises gallery and queries (the scores are then
        cosine similarities).  skmm retrievers embed L2-normalised vectors,
        for which both are the same.
    chunk_size : int, default=32768
        Gallery rows scored at once.
    query_chunk_size : int, default=1024
        Queries scored at once.
    dtype : {"float32", "float16"}, default="float32"
        Storage type of the gallery vectors; ``"float16"`` halves the memory.
        Scores are computed in float32 on the CPU (in the storage type on a
        GPU) and returned as float32.
    device : str, default="auto"
        Where the gallery lives and is scored (CUDA when available).

    Examples
    --------
    >>> import numpy as np
    >>> from skmm.retrieval import ExactIndex
    >>> gallery = np.array([[1.0, 0.0], [0.0, 1.0], [0.6, 0.8]])
    >>> index = ExactIndex().add(gallery)
    >>> indices, scores = index.search(np.array([[1.0, 0.1]]), k=2)
    >>> indices, scores.round(2)
    (array([[0, 2]]), array([[1.  , 0.68]], dtype=float32))
    """

    _parameter_constraints: ClassVar[dict] = {
        "metric": [StrOptions({"ip", "cosine"})],
        "chunk_size": [Interval(numbers.Integral, 1, None, closed="left")],
        "query_chunk_size": [Interval(numbers.Integral, 1, None, closed="left")],
        "dtype": [StrOptions({"float32", "float16"})],
        "device": "no_validation",
    }

    def __init__(
        self,
        *,
        metric: str = "ip",
        chunk_size: int = 32768,
        query_chunk_size: int = 1024,
        dtype: str = "float32",
        device: Any = "auto",
    ):
        self.metric = metric
        self.chunk_size = chunk_size
        self.query_chunk_size = query_chunk_size
        self.dtype = dtype
        self.device = device

    def _torch_dtype(self):
        import torch

        return torch.float16 if self.dtype == "float16" else torch.float32

    def _add(self, X: np.ndarray) -> None:
        import torch

        dev = resolve_device(self.device)
        new = torch.tensor(X, dtype=self._torch_dtype(), device=dev)
        old = getattr(self, "_store", None)
        self._store = new if old is None else torch.cat([old.to(dev), new])

    def _search(self, Q: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        import torch

        store = self._store
        dev = store.device
        compute = store.dtype if dev.type == "cuda" else torch.float32
        n = store.shape[0]
        out_idx = np.empty((Q.shape[0], k), np.int64)
        out_val = np.empty((Q.shape[0], k), np.float32)
        with torch.inference_mode():
            for qs in range(0, Q.shape[0], self.query_chunk_size):
                q = torch.as_tensor(Q[qs : qs + self.query_chunk_size], device=dev)
                q = q.to(compute)
                best_v = best_i = None
                for gs in range(0, n, self.chunk_size):
                    block = store[gs : gs + self.chunk_size]
                    if block.dtype != compute:
                        block = block.to(compute)
                    s = (q @ block.T).float()
                    v, i = _block_topk(s, k)
                    i = i + gs
                    if best_v is None:
                        best_v, best_i = v, i
                    else:
                        best_v, best_i = _merge(best_v, best_i, v, i, k)
                rows = slice(qs, qs + q.shape[0])
                out_idx[rows] = best_i.cpu().numpy()
                out_val[rows] = best_v.cpu().numpy()
        return out_idx, out_val

    def _state(self) -> dict[str, np.ndarray]:
        return {"vectors": self._store.cpu().numpy()}

    def _set_state(self, arrays: dict[str, np.ndarray]) -> None:
        import torch

        self._store = torch.as_tensor(
            np.ascontiguousarray(arrays["vectors"]), dtype=self._torch_dtype()
        ).to(resolve_device(self.device))

    def __getstate__(self) -> dict:
        state = dict(super().__getstate__())
        if "_store" in state:  # pickle on the CPU, like skorch
            state["_store"] = state["_store"].cpu()
        return state

    def __setstate__(self, state: dict) -> None:
        super().__setstate__(state)
        store = getattr(self, "_store", None)
        if store is not None:
            self._store = store.to(resolve_device(self.device))


def _order_by_score_then_id(v, i):
    """Sort candidate lists by score descending, then id ascending."""
    import torch

    i, perm = torch.sort(i, dim=1)
    v = torch.gather(v, 1, perm)
    v, perm = torch.sort(v, dim=1, descending=True, stable=True)
    return v, torch.gather(i, 1, perm)


def _block_topk(s, k: int):
    """Top-k of one score block with ties broken towards the lower column."""
    import torch

    n = s.shape[1]
    if n <= k:
        ids = torch.arange(n, device=s.device).expand(s.shape[0], n)
        return _order_by_score_then_id(s, ids.contiguous())
    # one extra candidate tells whether the k-th place is tied with the next
    v, i = torch.topk(s, k + 1, dim=1, largest=True, sorted=True)
    tied = v[:, k - 1] == v[:, k]
    v, i = v[:, :k], i[:, :k]
    if bool(tied.any()):
        # rare: several columns share the k-th score; keep the lowest ids
        for r in torch.nonzero(tied).flatten().tolist():
            row, t = s[r], v[r, k - 1]
            above = torch.nonzero(row > t).flatten()
            equal = torch.nonzero(row == t).flatten()[: k - above.numel()]
            ids = torch.cat([above, equal])
            i[r] = ids
            v[r] = row[ids]
    return _order_by_score_then_id(v, i)


def _merge(v1, i1, v2, i2, k: int):
    """Merge two sorted candidate lists; ids in ``i1`` are all lower than ``i2``."""
    import torch

    v = torch.cat([v1, v2], dim=1)
    i = torch.cat([i1, i2], dim=1)
    # stable: on equal scores the earlier (lower-id) list wins
    v, perm = torch.sort(v, dim=1, descending=True, stable=True)
    return v[:, :k], torch.gather(i, 1, perm[:, :k])


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

    def __init__(
        self,
        *,
        kind: str = "flat",
        metric: str = "ip",
        nlist: int = 1024,
        nprobe: int = 16,
        hnsw_m: int = 32,
        ef_construction: int = 80,
        ef_search: int = 128,
        n_threads: int | None = None,
    ):
        self.kind = kind
        self.metric = metric
        self.nlist = nlist
        self.nprobe = nprobe
        self.hnsw_m = hnsw_m
        self.ef_construction = ef_construction
        self.ef_search = ef_search
        self.n_threads = n_threads

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

    def _add(self, X: np.ndarray) -> None:
        faiss = self._faiss()
        if self.n_threads is not None:
            faiss.omp_set_num_threads(self.n_threads)
        if getattr(self, "_store", None) is None:
            self._store = self._build(faiss, X)
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
