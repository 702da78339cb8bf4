"""The embedding cache: each item's embedding computed once, on disk.

Every encoder takes ``cache=`` (a folder, or ``True`` for
``$SKMM_CACHE_DIR`` / ``~/.cache/skmm/embeddings``).
"""

from skmm.cache._store import (
    EmbeddingCache,
    cache_stats,
    default_cache_dir,
    reset_cache_stats,
)

__all__ = ["EmbeddingCache", "cache_stats", "default_cache_dir", "reset_cache_stats"]
