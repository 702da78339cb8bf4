"""The index interface: BaseIndex, and load_index for any saved index.

Every index speaks ``add(X)``, ``search(Q, k) -> (indices, scores)``,
``save(path)`` / ``load(path)``, ``len(index)``, ``reset()``.  Indexes are
sklearn-style objects (``get_params`` / ``set_params`` / ``clone``), so a
retriever's ``search_index`` parameter can be an index and a grid search can
tune ``search_index__ef_search``.  The implementations live beside this
module: :class:`~skmm.retrieval.ExactIndex` in ``_exact_index.py``,
:class:`~skmm.retrieval.FaissIndex` in ``_faiss_index.py``, and the file
format they are saved in in ``_index_file.py``.
"""

from __future__ import annotations

import numbers
import warnings
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from sklearn.base import BaseEstimator

from skmm.retrieval._index_file import (
    _bad_index,
    _read_index_file,
    write_index_file,
)

__all__ = ["BaseIndex", "load_index"]


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
        write_index_file(
            path,
            type(self).__name__,
            params=self.get_params(deep=False),
            dim=self.dim,
            ntotal=len(self),
            arrays=self._state() if len(self) else {},
        )

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
        klass = _index_classes()[meta["class"]]
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


def _index_classes() -> dict[str, type[BaseIndex]]:
    """The classes an index file can hold, by name (imported here: their
    modules import this one)."""
    from skmm.retrieval._exact_index import ExactIndex
    from skmm.retrieval._faiss_index import FaissIndex

    return {c.__name__: c for c in (ExactIndex, FaissIndex)}


def __getattr__(name: str) -> Any:
    # pickles made before the split name skmm.retrieval._index.ExactIndex
    if name in ("ExactIndex", "FaissIndex"):
        return _index_classes()[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
