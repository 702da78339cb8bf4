"""Lazy, shared, non-pickled pretrained weights.

Weights load on first use (``fit`` or, after unpickling, ``transform``),
never in ``__init__``.  Loaded models live in a small process-wide cache keyed
by (class, weights location, device, options), so the clones that
``cross_validate`` and ``GridSearchCV`` make do not load the same weights
again, and the estimator's ``__dict__`` never holds them: pickling a fitted
encoder stores its parameters only, unless ``pickle_weights=True``.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

__all__ = ["PretrainedMixin", "clear_model_cache"]

_MODEL_CACHE: OrderedDict = OrderedDict()
_LOCK = threading.RLock()
_MAX_MODELS = 6


def clear_model_cache() -> None:
    """Forget every loaded pretrained model (frees their memory).

    Examples
    --------
    >>> clear_model_cache()
    """
    with _LOCK:
        _MODEL_CACHE.clear()


class PretrainedMixin:
    """Mixin for encoders backed by pretrained weights.

    Subclasses implement ``_model_key()`` (a hashable identity of the weights
    and options that change the loaded object) and ``_load_model()``.
    """

    def _model_key(self) -> tuple:  # pragma: no cover - abstract
        raise NotImplementedError

    def _load_model(self) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def _get_model(self) -> Any:
        pickled = self.__dict__.get("_pickled_model")
        if pickled is not None:
            return pickled
        key = (type(self).__qualname__, *self._model_key())
        with _LOCK:
            model = _MODEL_CACHE.get(key)
            if model is not None:
                _MODEL_CACHE.move_to_end(key)
                return model
            model = self._load_model()
            _MODEL_CACHE[key] = model
            while len(_MODEL_CACHE) > _MAX_MODELS:
                _MODEL_CACHE.popitem(last=False)
            return model

    def _cache_identity(self) -> str:
        """Content hash of the weights (file or folder), for the cache key."""
        from skmm.cache._fingerprint import hash_path_content

        path = getattr(self, "model_path_", None) or getattr(
            self, "weights_path_", None
        )
        return hash_path_content(path) if path else ""

    def __getstate__(self) -> dict:
        state = super().__getstate__()
        state = dict(state)
        state.pop("_pickled_model", None)
        if getattr(self, "pickle_weights", False) and hasattr(self, "n_features_out_"):
            state["_pickled_model"] = self._get_model()
        return state
