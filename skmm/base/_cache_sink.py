"""The embedding cache as an encoder uses it.

``open_cache`` opens the store and the namespace of an encoder's settings
(or gives ``(None, None)`` when caching is off or the folder is unusable);
``_CacheSink`` writes each finished batch to it, so that a failure or a
killed process loses at most one batch.  An unwritable folder warns once and
encoding goes on without the cache.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["open_cache"]


class _CacheSink:
    """Writes each finished batch to the cache; an unwritable folder warns
    once and is not tried again."""

    def __init__(self, store: Any, namespace: str, keys: list):
        self.store, self.namespace, self.keys = store, namespace, keys

    def __call__(self, indices: np.ndarray, rows: np.ndarray) -> None:
        if self.store is None:
            return
        keep = [j for j, i in enumerate(indices) if self.keys[i] is not None]
        if not keep:
            return
        try:
            self.store.put_many(
                self.namespace, [self.keys[indices[j]] for j in keep], rows[keep]
            )
        except OSError as exc:
            from skmm.cache._store import unusable_cache_warning

            unusable_cache_warning(self.store.root, exc)
            self.store = None


def open_cache(encoder: Any) -> tuple[Any, str | None]:
    """``(store, namespace)`` for ``encoder.cache``, or ``(None, None)``."""
    cache = getattr(encoder, "cache", None)
    if cache is None or cache is False:
        return None, None
    from skmm.cache._fingerprint import encoder_fingerprint
    from skmm.cache._store import EmbeddingCache, unusable_cache_warning

    store = EmbeddingCache(None if cache is True else cache)
    namespace, desc = encoder_fingerprint(encoder)
    try:
        store.write_meta(namespace, desc)
    except OSError as exc:
        if not (store.root / namespace).is_dir():
            unusable_cache_warning(store.root, exc)
            return None, None
        # a read-only folder that already holds entries still serves hits
    return store, namespace
