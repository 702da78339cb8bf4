"""What every retriever shares: blocks, missing rows, embed / index / search / score."""

from __future__ import annotations

import numbers
import warnings
from typing import Any, ClassVar

import numpy as np
from sklearn.base import BaseEstimator, clone
from sklearn.exceptions import NotFittedError
from sklearn.utils import check_consistent_length

from skmm.compose._blocks import resolve_modalities
from skmm.metrics._scorer import retrieval_score
from skmm.retrieval._docs import RETRIEVER_DOCS
from skmm.retrieval._exact_index import ExactIndex
from skmm.retrieval._faiss_index import FaissIndex
from skmm.retrieval._index import BaseIndex
from skmm.retrieval._validation import (
    MissingModalityWarning,
    missing_rows,
    select_block,
)
from skmm.utils._docs import fill_doc
from skmm.utils._sklearn_compat import (
    HasMethods,
    Interval,
    StrOptions,
    _fit_context,
    check_is_fitted,
    validate_data,
)

__all__ = [
    "TRAINING_CONSTRAINTS",
    "BaseRetriever",
    "StandardizedBlocks",
    "skorch_params",
]

_INDEX_NAMES = {"exact", "faiss-flat", "faiss-ivf", "faiss-hnsw"}
_GALLERY_ATTRS = ("gallery_index_", "gallery_ids_", "gallery_modality_")


def _l2_normalize(x: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.maximum(norms, 1e-12)


# the constraints of the settings the trained retrievers (contrastive and
# two-tower) share: what skorch_params reads and the InfoNCE head's own
TRAINING_CONSTRAINTS: dict = {
    "embed_dim": [Interval(numbers.Integral, 1, None, closed="left")],
    "dropout": [Interval(numbers.Real, 0, 1, closed="left")],
    "temperature": [Interval(numbers.Real, 0.01, None, closed="left")],
    "learn_temperature": ["boolean"],
    "max_epochs": [Interval(numbers.Integral, 1, None, closed="left")],
    "batch_size": [Interval(numbers.Integral, 2, None, closed="left")],
    "lr": [Interval(numbers.Real, 0, None, closed="neither")],
    "weight_decay": [Interval(numbers.Real, 0, None, closed="left")],
    "random_state": ["random_state"],
    "device": "no_validation",
    "verbose": ["verbose"],
    "callbacks": [list, None],
}


def skorch_params(est: Any, n_train: int, callbacks: list, device: Any) -> dict:
    """The skorch settings the trained retrievers share.

    AdamW with ``est.lr`` and ``est.weight_decay``; ``est.max_epochs``
    epochs of shuffled ``est.batch_size`` batches, the last incomplete one
    dropped when the ``n_train`` rows fill more than one; no internal
    validation split; ``est.verbose``'s log.
    """
    import torch

    return {
        "optimizer": torch.optim.AdamW,
        "lr": est.lr,
        "optimizer__weight_decay": est.weight_decay,
        "max_epochs": est.max_epochs,
        "batch_size": est.batch_size,
        "iterator_train__shuffle": True,
        "iterator_train__drop_last": n_train > est.batch_size,
        "train_split": None,
        "callbacks": callbacks or None,
        "device": str(device),
        "verbose": est.verbose,
    }


class StandardizedBlocks:
    """Mixin of retrievers that standardise each block with statistics of fit.

    Sets ``x_mean_`` and ``x_scale_`` (modality -> per-feature arrays).
    """

    def _fit_standardize(
        self, Xq: np.ndarray, Xt: np.ndarray, *, ddof: int, scale: bool = True
    ) -> list[np.ndarray]:
        """Learn each block's mean and scale; return the standardised blocks.

        A feature with (near) zero spread, or every feature when ``scale``
        is False, keeps the scale 1.
        """
        self.x_mean_, self.x_scale_ = {}, {}
        out = []
        for m, X in ((self.query, Xq), (self.target, Xt)):
            mean = X.mean(axis=0)
            if scale and X.shape[0] > ddof:
                std = X.std(axis=0, ddof=ddof)
                std = np.where(std > 1e-12, std, 1.0)
            else:
                std = np.ones(X.shape[1])
            self.x_mean_[m], self.x_scale_[m] = mean, std
            out.append((X - mean) / std)
        return out

    def _standardize(self, block: np.ndarray, modality: str) -> np.ndarray:
        return (block - self.x_mean_[modality]) / self.x_scale_[modality]


@fill_doc(RETRIEVER_DOCS)
class BaseRetriever(BaseEstimator):
    """Base class of skmm's cross-modal retrievers.

    A retriever is fitted on rows that pair a ``query`` block with a
    ``target`` block (row ``i``'s text describes row ``i``'s image) and
    learns one projection per modality into a shared space.  Subclasses
    implement ``_fit_pairs(Xq, Xt, y)`` (float64 blocks without missing rows;
    ``y`` integer group codes or None) and ``_project(block, modality)``.

    Subclasses declare ``query``, ``target``, ``modalities`` and
    ``search_index`` among their parameters (sklearn reads them from the
    signature of ``__init__``); :meth:`fit` validates them against
    ``_parameter_constraints``.
    """

    _parameter_constraints: ClassVar[dict] = {
        "query": [str],
        "target": [str],
        "modalities": [dict, None],
        "search_index": [StrOptions(_INDEX_NAMES), HasMethods(["add", "search"])],
    }

    # ------------------------------------------------------------ subclass
    def _fit_pairs(
        self, Xq: np.ndarray, Xt: np.ndarray, y: np.ndarray | None
    ) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _project(
        self, block: np.ndarray, modality: str
    ) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    @classmethod
    def get_test_params(cls) -> list[dict]:
        """Cheap parameter sets for conformance tests (plugins included)."""
        return [{}]

    # ---------------------------------------------------------------- fit
    def _start_fit(self) -> None:
        """Forget an earlier fit's gallery; check the two modalities differ."""
        for name in _GALLERY_ATTRS:
            self.__dict__.pop(name, None)
        if self.query == self.target:
            raise ValueError(
                f"query and target must be two different modalities, got "
                f"{self.query!r} for both."
            )

    def _fit_blocks(self, X: Any, y: Any) -> tuple[np.ndarray, np.ndarray, Any]:
        """Validate ``X``/``y``, find the blocks, drop rows missing either."""
        self._start_fit()
        arr = validate_data(
            self,
            X,
            reset=True,
            dtype=np.float64,
            ensure_all_finite="allow-nan",
            ensure_min_samples=1,
        )
        if arr.shape[1] < 2:
            raise ValueError(
                f"X has {arr.shape[1]} feature(s) (n_features = {arr.shape[1]}), but "
                f"{type(self).__name__} needs at least 2: a query and a target block."
            )
        names = getattr(self, "feature_names_in_", None)
        blocks = resolve_modalities(
            self.modalities,
            feature_names=None if names is None else list(names),
            n_features=arr.shape[1],
        )
        for role, m in (("query", self.query), ("target", self.target)):
            if m not in blocks:
                raise ValueError(
                    f"The {role} modality {m!r} is not in X; its modality blocks "
                    f"are {sorted(blocks)}. Set {role}= to one of them."
                )
        self.modality_columns_ = {m: blocks[m] for m in (self.query, self.target)}
        self.modality_feature_names_ = {
            m: None if names is None else [str(n) for n in names[idx]]
            for m, idx in self.modality_columns_.items()
        }
        Xq = arr[:, blocks[self.query]]
        Xt = arr[:, blocks[self.target]]
        drop = missing_rows(Xq) | missing_rows(Xt)
        if y is not None:
            y = np.asarray(y)
            if y.ndim != 1:
                y = y.ravel() if y.ndim == 2 and y.shape[1] == 1 else y
            check_consistent_length(arr, y)
        if drop.any():
            warnings.warn(
                f"{int(drop.sum())} of {drop.size} rows miss the {self.query!r} or "
                f"the {self.target!r} modality (NaN) and are left out of fit.",
                MissingModalityWarning,
                stacklevel=3,
            )
            Xq, Xt = Xq[~drop], Xt[~drop]
            y = None if y is None else y[~drop]
        n = Xq.shape[0]
        if n < 2:
            raise ValueError(
                f"Found n_samples = {n} complete pair(s), but {type(self).__name__} "
                "needs at least 2 rows holding both the query and the target "
                "modality."
            )
        if y is not None:
            _, y = np.unique(y, return_inverse=True)
            y = y.astype(np.int64)
        self.n_pairs_ = n
        return Xq, Xt, y

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: Any, y: Any = None) -> BaseRetriever:
        """Learn the shared space from paired rows.

        Parameters
        ----------
        {fit_X_param}
        y : array-like of shape (n_samples,), optional
            Group labels: rows with equal labels are all relevant to each
            other.

        Returns
        -------
        self
        """
        Xq, Xt, y = self._fit_blocks(X, y)
        self._fit_pairs(Xq, Xt, y)
        return self

    # --------------------------------------------------------- embedding
    def _block(self, X: Any, modality: str) -> np.ndarray:
        check_is_fitted(self)
        if modality not in self.modality_columns_:
            raise ValueError(
                f"{type(self).__name__} was fitted on the modalities "
                f"{self.query!r} (query) and {self.target!r} (target); it cannot "
                f"embed modality={modality!r}. Refit with query= / target= "
                "naming that modality."
            )
        return select_block(
            X,
            modality=modality,
            columns=self.modality_columns_[modality],
            feature_names=self.modality_feature_names_[modality],
            n_features_in=self.n_features_in_,
            estimator_name=type(self).__name__,
        )

    def embed(self, X: Any, modality: str | None = None) -> np.ndarray:
        """L2-normalised shared-space vectors of one modality's block.

        Parameters
        ----------
        X : DataFrame or array-like
            The full table, or only that modality's columns.
        modality : str, optional
            ``query`` (default) or ``target`` modality.

        Returns
        -------
        ndarray of shape (n_samples, embed_dim), float32
            Rows missing the modality (NaN) are NaN.
        """
        modality = self.query if modality is None else modality
        block = self._block(X, modality)
        missing = missing_rows(block)
        out = np.full((block.shape[0], self.embed_dim_), np.nan, dtype=np.float32)
        if (~missing).any():
            z = self._project(block[~missing], modality)
            out[~missing] = _l2_normalize(np.asarray(z, dtype=np.float64))
        return out

    # ------------------------------------------------------- index/search
    def _new_index(self) -> BaseIndex:
        spec = self.search_index
        if isinstance(spec, str):
            if spec == "exact":
                device = getattr(self, "device", "auto")
                return ExactIndex(device=device)
            return FaissIndex(kind=spec.split("-", 1)[1])
        return clone(spec)

    def index(self, X: Any, modality: str | None = None) -> BaseRetriever:
        """Embed a gallery and index it for :meth:`search`.

        Parameters
        ----------
        X : DataFrame or array-like
            Gallery rows (the full table, or that modality's columns).
        modality : str, optional
            The gallery's modality; the ``target`` by default.  Rows missing
            it are left out with a warning; :meth:`search` still returns
            positions in ``X``.

        Returns
        -------
        self
        """
        modality = self.target if modality is None else modality
        emb = self.embed(X, modality=modality)
        ok = ~missing_rows(emb)
        if not ok.any():
            raise ValueError(
                f"The gallery is empty: X has {ok.size} rows and none holds the "
                f"{modality!r} modality."
            )
        if not ok.all():
            warnings.warn(
                f"{int((~ok).sum())} of {ok.size} gallery rows miss the "
                f"{modality!r} modality (NaN) and are left out of the gallery.",
                MissingModalityWarning,
                stacklevel=2,
            )
        index = self._new_index()
        index.add(emb[ok])
        self.gallery_index_ = index
        self.gallery_ids_ = np.flatnonzero(ok).astype(np.int64)
        self.gallery_modality_ = modality
        return self

    def search(
        self, X: Any, k: int = 10, modality: str | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` best gallery rows for each query row.

        Parameters
        ----------
        X : DataFrame or array-like
            Query rows (the full table, or that modality's columns).
        k : int, default=10
            Results per query; more than the gallery holds is clipped with a
            warning.
        modality : str, optional
            The queries' modality; the ``query`` by default (pass the target
            modality after indexing the query modality to search the other
            way).

        Returns
        -------
        indices : ndarray of shape (n_queries, k), int64
            Row positions in the indexed gallery ``X``, best first; ``-1``
            for a query row missing its modality.
        scores : ndarray of shape (n_queries, k), float32
            Cosine similarities in the shared space (NaN for missing rows).
        """
        check_is_fitted(self)
        if not hasattr(self, "gallery_index_"):
            raise NotFittedError(
                f"This {type(self).__name__} has no gallery: call "
                "index(X_gallery) before search."
            )
        if isinstance(k, bool) or not isinstance(k, numbers.Integral) or k < 1:
            raise ValueError(f"k must be a positive int, got {k!r}")
        modality = self.query if modality is None else modality
        emb = self.embed(X, modality=modality)
        ok = ~missing_rows(emb)
        n_gallery = len(self.gallery_index_)
        if k > n_gallery:
            warnings.warn(
                f"k={k} is larger than the gallery ({n_gallery} items); returning "
                f"{n_gallery} results per query.",
                UserWarning,
                stacklevel=2,
            )
            k = n_gallery
        if not ok.all():
            warnings.warn(
                f"{int((~ok).sum())} of {ok.size} query rows miss the {modality!r} "
                "modality (NaN) and are left out: their results are -1 / NaN.",
                MissingModalityWarning,
                stacklevel=2,
            )
        indices = np.full((ok.size, k), -1, dtype=np.int64)
        scores = np.full((ok.size, k), np.nan, dtype=np.float32)
        if ok.any():
            idx, sc = self.gallery_index_.search(emb[ok], k)
            found = idx >= 0
            rows = self.gallery_ids_[np.where(found, idx, 0)]
            indices[ok] = np.where(found, rows, -1)
            scores[ok] = np.where(found, sc, np.nan)
        return indices, scores

    def score(self, X: Any, y: Any = None, *, metric: str = "recall@10") -> float:
        """Retrieval quality on the pairs in ``X`` (hit-rate Recall@10 by default).

        Queries are the rows' ``query`` block, the gallery the same rows'
        ``target`` block; query ``i``'s relevant item is row ``i``, or every
        row with the same ``y`` when ``y`` is given.  So ``GridSearchCV`` and
        ``cross_validate`` (with grouped splits) work as usual.

        Parameters
        ----------
        X : DataFrame or array-like
            Rows holding both blocks.
        y : array-like, optional
            Group labels.
        metric : str, default="recall@10"
            See :func:`skmm.metrics.make_retrieval_scorer`.

        Returns
        -------
        float
        """
        return retrieval_score(self, X, y, metric=metric)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.target_tags.required = False
        return tags
