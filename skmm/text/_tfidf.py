"""TF-IDF text features, optionally reduced by SVD to a fixed width."""

from __future__ import annotations

import numbers
import warnings
from typing import Any, ClassVar

import numpy as np
from sklearn.decomposition import TruncatedSVD
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.preprocessing import normalize as l2_normalize

from skmm.base._docs import encoder_docs
from skmm.base._params import EncoderParams
from skmm.base._test_params import CheapParamsMixin
from skmm.text._common import _TextEncoderBase
from skmm.utils._docs import fill_doc
from skmm.utils._params import estimator_init
from skmm.utils._sklearn_compat import Interval, StrOptions

__all__ = ["TfidfTextEncoder"]


@fill_doc(encoder_docs("text"))
@estimator_init
class TfidfTextEncoder(CheapParamsMixin, _TextEncoderBase, EncoderParams):
    """Classic text features: TF-IDF, optionally reduced by truncated SVD (LSA).

    Needs no weights.  Missing texts (None, NaN, ``""``) give rows of NaN.

    Parameters
    ----------
    max_features : int or None, default=4096
        Vocabulary size (most frequent terms).
    ngram_range : tuple (min_n, max_n), default=(1, 1)
        Word n-grams to count.
    min_df : int or float, default=1
        Ignore terms rarer than this (count or fraction of documents).
    sublinear_tf : bool, default=True
        Use ``1 + log(tf)``.
    lowercase : bool, default=True
        Lower-case before tokenising.
    stop_words : {"english"}, list or None, default=None
        Stop words to drop.
    n_components : int or None, default=None
        Width after truncated SVD; ``None`` keeps the TF-IDF vocabulary
        width.  When the vocabulary is too small for ``n_components``, the
        missing columns are zeros (with a warning), so the width stays fixed.
    normalize : bool, default=True
        L2-normalise the SVD output (TF-IDF rows are always L2-normalised).
    random_state : int, RandomState or None, default=None
        Seed of the SVD.
    batch_size : int, default=1024
        Texts transformed per batch.
    cache : bool, path or None, default=None
        Cache embeddings on disk per item; see :mod:`skmm.cache`.
    {on_error}
    {verbose}

    Attributes
    ----------
    vectorizer_ : TfidfVectorizer
        The fitted vectorizer.
    svd_ : TruncatedSVD or None
        The fitted SVD.
    n_features_out_ : int
        Output width per input column.
    {input_attributes}

    Examples
    --------
    >>> from skmm.text import TfidfTextEncoder
    >>> enc = TfidfTextEncoder(n_components=2, random_state=0)
    >>> X = enc.fit_transform(["a red apple", "a green apple", None, "blue sky"])
    >>> X.shape
    (4, 2)
    >>> bool(np.isnan(X[2]).all())
    True
    """

    _fit_requires_data: ClassVar[bool] = True
    _parameter_constraints: ClassVar[dict] = {
        **_TextEncoderBase._parameter_constraints,
        "max_features": [Interval(numbers.Integral, 1, None, closed="left"), None],
        "ngram_range": [tuple],
        "min_df": [
            Interval(numbers.Integral, 1, None, closed="left"),
            Interval(numbers.Real, 0, 1, closed="both"),
        ],
        "sublinear_tf": ["boolean"],
        "lowercase": ["boolean"],
        "stop_words": [StrOptions({"english"}), list, None],
        "n_components": [Interval(numbers.Integral, 1, None, closed="left"), None],
        "normalize": ["boolean"],
        "random_state": ["random_state"],
    }

    max_features: int | None = 4096
    ngram_range: tuple[int, int] = (1, 1)
    min_df: float = 1
    sublinear_tf: bool = True
    lowercase: bool = True
    stop_words: Any = None
    n_components: int | None = None
    normalize: bool = True
    random_state: Any = None
    batch_size: int = 1024

    _test_params: ClassVar[tuple[dict[str, Any], ...]] = (
        {},
        {"n_components": 3, "random_state": 0},
        {"ngram_range": (1, 2)},
    )

    def _fit_encoder(self, prepared: list | None) -> None:
        texts = prepared or []
        if not texts:
            raise ValueError(
                "TfidfTextEncoder needs at least one non-missing text to fit; "
                "every cell was missing."
            )
        self.vectorizer_ = TfidfVectorizer(
            max_features=self.max_features,
            ngram_range=self.ngram_range,
            min_df=self.min_df,
            sublinear_tf=self.sublinear_tf,
            lowercase=self.lowercase,
            stop_words=self.stop_words,
            dtype=np.float32,
            token_pattern=r"(?u)\b\w+\b",
        )
        try:
            tfidf = self.vectorizer_.fit_transform(texts)
        except ValueError as exc:  # empty vocabulary
            raise ValueError(f"TfidfTextEncoder could not fit: {exc}") from exc
        vocab = tfidf.shape[1]
        self.svd_ = None
        if self.n_components is None:
            self.n_features_out_ = vocab
            return
        self.n_features_out_ = self.n_components
        k = min(self.n_components, vocab - 1, tfidf.shape[0] - 1)
        if k < self.n_components:
            warnings.warn(
                f"TfidfTextEncoder: n_components={self.n_components} exceeds what "
                f"the data supports ({vocab} terms, {tfidf.shape[0]} texts); the "
                f"last {self.n_components - max(k, 0)} output columns are zeros.",
                UserWarning,
                stacklevel=3,
            )
        if k >= 1:
            self.svd_ = TruncatedSVD(n_components=k, random_state=self.random_state)
            # identical texts have no variance: only explained_variance_ratio_
            # divides by it (NaN, with a numpy warning that says nothing)
            with np.errstate(divide="ignore", invalid="ignore"):
                self.svd_.fit(tfidf)

    def _cache_state(self) -> dict:
        # the learned numbers only (the vectorizer object holds process ids)
        return {
            "vocabulary": self.vectorizer_.vocabulary_,
            "idf": self.vectorizer_.idf_,
            "svd": None if self.svd_ is None else self.svd_.components_,
            "width": self.n_features_out_,
        }

    def _encode_batch(self, prepared: list) -> np.ndarray:
        tfidf = self.vectorizer_.transform(prepared)
        if self.n_components is None:
            return tfidf.toarray()
        out = np.zeros((len(prepared), self.n_features_out_), dtype=np.float32)
        if self.svd_ is not None:
            z = self.svd_.transform(tfidf)
            if self.normalize:
                z = l2_normalize(z)
            out[:, : z.shape[1]] = z
        return out
