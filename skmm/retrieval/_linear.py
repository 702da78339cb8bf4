"""Linear shared-space retrievers: ridge regression, CCA and PLS."""

from __future__ import annotations

import numbers
from typing import Any, ClassVar

import numpy as np
from scipy import linalg

from skmm.retrieval._base import BaseRetriever, StandardizedBlocks
from skmm.retrieval._docs import RETRIEVER_DOCS
from skmm.utils._docs import fill_doc
from skmm.utils._params import estimator_init, param_group
from skmm.utils._sklearn_compat import Interval

__all__ = ["CCARetriever", "PLSRetriever", "RidgeRetriever"]


_LINEAR_DOCS = {
    "linear_params": """\
{block_params}
scale : bool, default=True
    Standardise each block's features before fitting (means and
    standard deviations of the training rows).
{search_index_param}""",
    "linear_attrs": """\
{fitted_attrs}
weights_ : dict
    Modality -> ``(width, embed_dim_)`` projection of the standardised
    block.
{scaling_attrs}
{gallery_attr}""",
}


@fill_doc(RETRIEVER_DOCS)
@param_group
class _LinearRetriever(StandardizedBlocks, BaseRetriever):
    """Standardise each block, then one linear map per modality.

    Subclasses implement ``_directions(Zq, Zt) -> (Wq, Wt)``: the
    ``(width, embed_dim)`` projection of each standardised block, and
    declare their own parameters, which come before these shared ones.
    """

    _parameter_constraints: ClassVar[dict] = {
        **BaseRetriever._parameter_constraints,
        "scale": ["boolean"],
    }

    query: str = "text"
    target: str = "image"
    modalities: dict | None = None
    scale: bool = True
    search_index: Any = "exact"

    def _directions(
        self, Zq: np.ndarray, Zt: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover - abstract
        raise NotImplementedError

    def _fit_pairs(self, Xq: np.ndarray, Xt: np.ndarray, y: Any) -> None:
        # the unbiased std, as sklearn's cross_decomposition scales
        Zq, Zt = self._fit_standardize(Xq, Xt, ddof=1, scale=self.scale)
        Wq, Wt = self._directions(Zq, Zt)
        self.weights_ = {self.query: Wq, self.target: Wt}
        self.embed_dim_ = int(Wt.shape[1])

    def _project(self, block: np.ndarray, modality: str) -> np.ndarray:
        return self._standardize(block, modality) @ self.weights_[modality]

    def fit(self, X: Any, y: Any = None) -> _LinearRetriever:
        """Learn the shared space from paired rows.

        Parameters
        ----------
        {fit_X_param}
        y : None
            Ignored: the linear retrievers learn from the row pairing.

        Returns
        -------
        self
        """
        return super().fit(X, None)


@fill_doc(RETRIEVER_DOCS, _LINEAR_DOCS)
@estimator_init
class RidgeRetriever(_LinearRetriever):
    """Ridge regression from the query block into the target block's space.

    The shared space is the target block (standardised, or its first
    ``n_components`` principal components): targets embed as themselves and
    queries as their ridge prediction of the paired target,
    ``W = (Xq'Xq + alpha I)^-1 Xq'T``.  Both sides are L2-normalised, so
    either direction can be searched.

    Parameters
    ----------
    alpha : float, default=1.0
        L2 penalty on the map (on standardised features, as in
        :class:`sklearn.linear_model.Ridge`).
    n_components : int, optional
        Reduce the target space to its first principal components (clipped to
        the rank available); all of it when None.
    {linear_params}

    Attributes
    ----------
    {linear_attrs}

    Examples
    --------
    >>> import numpy as np
    >>> from skmm.datasets import make_paired_modalities
    >>> from skmm.retrieval import RidgeRetriever
    >>> data = make_paired_modalities(100, random_state=0).data
    >>> r = RidgeRetriever().fit(data[:80])
    >>> r.embed(data[80:], modality="text").shape
    (20, 24)
    >>> gallery = data[80:]  # its rows are indexed by position: 0 .. 19
    >>> indices, scores = r.index(gallery).search(gallery, k=1)
    >>> float((indices[:, 0] == np.arange(20)).mean()) > 0.8
    True
    """

    _parameter_constraints: ClassVar[dict] = {
        **_LinearRetriever._parameter_constraints,
        "alpha": [Interval(numbers.Real, 0, None, closed="left")],
        "n_components": [Interval(numbers.Integral, 1, None, closed="left"), None],
    }

    alpha: float = 1.0
    n_components: int | None = None

    @classmethod
    def get_test_params(cls) -> list[dict]:
        """Cheap parameter sets for conformance tests."""
        return [{}, {"alpha": 10.0, "n_components": 2}]

    def _directions(self, Zq: np.ndarray, Zt: np.ndarray):
        if self.n_components is None:
            V = np.eye(Zt.shape[1])
        else:
            _, _, Vt = linalg.svd(Zt, full_matrices=False)
            V = Vt[: min(self.n_components, Vt.shape[0])].T
        T = Zt @ V
        gram = Zq.T @ Zq + self.alpha * np.eye(Zq.shape[1])
        rhs = Zq.T @ T
        try:
            W = linalg.solve(gram, rhs, assume_a="pos")
        except (linalg.LinAlgError, ValueError):  # alpha=0 and rank-deficient
            W = linalg.lstsq(Zq, T)[0]
        return W, V


@fill_doc(RETRIEVER_DOCS, _LINEAR_DOCS)
@estimator_init
class CCARetriever(_LinearRetriever):
    """Regularised canonical correlation analysis into a shared space.

    Each block is whitened with its regularised covariance
    ``C + reg * mean(diag C) * I``; the SVD of the whitened
    cross-covariance gives the canonical directions.  Embeddings are the
    canonical variates scaled by ``correlation ** power``, so
    well-correlated directions weigh more in the cosine similarity.

    Parameters
    ----------
    n_components : int, default=64
        Canonical pairs kept (clipped to the smaller block width).
    reg : float, default=0.1
        Covariance shrinkage relative to the mean variance; needed when a
        block is wide compared with the number of pairs.
    power : float, default=1.0
        Exponent of the canonical correlations that scale the components
        (0: plain whitened variates).
    {linear_params}

    Attributes
    ----------
    {linear_attrs}
    correlations_ : ndarray of shape (embed_dim_,)
        Canonical correlations on the training pairs (regularised).

    Examples
    --------
    >>> from skmm.datasets import make_paired_modalities
    >>> from skmm.retrieval import CCARetriever
    >>> data = make_paired_modalities(100, latent_dim=4, random_state=0).data
    >>> r = CCARetriever(n_components=4).fit(data[:80])
    >>> bool(r.correlations_.min() > 0.9)
    True
    >>> r.score(data[80:], metric="recall@1") > 0.8
    True
    """

    _parameter_constraints: ClassVar[dict] = {
        **_LinearRetriever._parameter_constraints,
        "n_components": [Interval(numbers.Integral, 1, None, closed="left")],
        "reg": [Interval(numbers.Real, 0, None, closed="left")],
        "power": [Interval(numbers.Real, 0, None, closed="left")],
    }

    n_components: int = 64
    reg: float = 0.1
    power: float = 1.0

    @classmethod
    def get_test_params(cls) -> list[dict]:
        """Cheap parameter sets for conformance tests."""
        return [{"n_components": 2}, {"n_components": 2, "reg": 1.0, "power": 0.0}]

    @staticmethod
    def _inv_sqrt(C: np.ndarray, reg: float) -> np.ndarray:
        shrink = reg * max(float(np.mean(np.diag(C))), 1e-12)
        evals, evecs = linalg.eigh(C + shrink * np.eye(C.shape[0]))
        evals = np.maximum(evals, 1e-12 * max(evals.max(), 1e-12))
        return (evecs / np.sqrt(evals)) @ evecs.T

    def _directions(self, Zq: np.ndarray, Zt: np.ndarray):
        n = Zq.shape[0]
        Cqq = Zq.T @ Zq / (n - 1)
        Ctt = Zt.T @ Zt / (n - 1)
        Cqt = Zq.T @ Zt / (n - 1)
        Wq, Wt = self._inv_sqrt(Cqq, self.reg), self._inv_sqrt(Ctt, self.reg)
        U, s, Vt = linalg.svd(Wq @ Cqt @ Wt, full_matrices=False)
        c = min(self.n_components, s.size)
        self.correlations_ = s[:c]
        weight = np.maximum(s[:c], 0.0) ** self.power
        return (Wq @ U[:, :c]) * weight, (Wt @ Vt[:c].T) * weight


@fill_doc(RETRIEVER_DOCS, _LINEAR_DOCS)
@estimator_init
class PLSRetriever(_LinearRetriever):
    """Partial least squares (PLS-SVD) into a shared space.

    The directions are the leading singular vectors of the cross-covariance
    ``Xq'Xt`` of the standardised blocks (the same as
    :class:`sklearn.cross_decomposition.PLSSVD`): the pairs of directions
    of largest covariance, without the whitening of CCA.

    Parameters
    ----------
    n_components : int, default=64
        Component pairs kept (clipped to the smaller block width and the
        number of pairs).
    {linear_params}

    Attributes
    ----------
    {linear_attrs}
    singular_values_ : ndarray of shape (embed_dim_,)
        Singular values of the cross-covariance kept.

    Examples
    --------
    >>> from skmm.datasets import make_paired_modalities
    >>> from skmm.retrieval import PLSRetriever
    >>> data = make_paired_modalities(100, latent_dim=4, random_state=0).data
    >>> r = PLSRetriever(n_components=4).fit(data[:80])
    >>> r.embed_dim_, r.score(data[80:], metric="recall@1") > 0.8
    (4, True)
    """

    _parameter_constraints: ClassVar[dict] = {
        **_LinearRetriever._parameter_constraints,
        "n_components": [Interval(numbers.Integral, 1, None, closed="left")],
    }

    n_components: int = 64

    @classmethod
    def get_test_params(cls) -> list[dict]:
        """Cheap parameter sets for conformance tests."""
        return [{"n_components": 2}]

    def _directions(self, Zq: np.ndarray, Zt: np.ndarray):
        U, s, Vt = linalg.svd(Zq.T @ Zt, full_matrices=False)
        c = min(self.n_components, s.size, Zq.shape[0])
        self.singular_values_ = s[:c]
        return U[:, :c], Vt[:c].T
