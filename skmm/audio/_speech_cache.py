"""A per-item transcript store beside the embedding cache.

Layout: ``<root>/<namespace>/<key[:2]>/<key>.txt``, in the same folder and
namespaces as :class:`~skmm.cache.EmbeddingCache` (the namespace is the
transcriber's fingerprint, the key the content hash of one clip).  Each
entry is the transcript in UTF-8 followed by a 4-byte CRC-32; a read checks
the checksum and the encoding, so a truncated or bit-flipped entry is
counted as corrupt, deleted and transcribed again, never served.  Writes go
to a temporary file moved into place with :func:`os.replace` (atomic).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from skmm.cache import EmbeddingCache
from skmm.cache._store import read_checked, write_checked

__all__ = ["TranscriptCache", "open_transcript_cache"]


class TranscriptCache(EmbeddingCache):
    """A folder of cached transcripts (one text per clip).

    Examples
    --------
    >>> import tempfile
    >>> cache = TranscriptCache(tempfile.mkdtemp())
    >>> cache.put_texts("asr", ["k1"], ["a frog."])
    >>> cache.get_texts("asr", ["k1", "k2"])
    ['a frog.', None]
    """

    def _text_path(self, namespace: str, key: str) -> str:
        return os.path.join(self.root, namespace, key[:2], f"{key}.txt")

    def get_texts(self, namespace: str, keys: Sequence[str]) -> list[str | None]:
        """The transcripts of ``keys`` (``None`` where absent or corrupt)."""
        out: list[str | None] = []
        corrupt = 0
        for key in keys:
            path = self._text_path(namespace, key)
            try:
                body = read_checked(path)
            except OSError:  # absent, unreadable, a folder: a miss
                out.append(None)
                continue
            text = None
            if body is not None:
                try:
                    text = body.decode("utf-8")
                except UnicodeDecodeError:
                    text = None
            if text is None:
                corrupt += 1
                try:
                    os.unlink(path)
                except OSError:
                    pass
            out.append(text)
        hits = sum(t is not None for t in out)
        self._count(hits=hits, misses=len(keys) - hits, corrupt=corrupt)
        return out

    def put_texts(
        self, namespace: str, keys: Sequence[str], texts: Sequence[str]
    ) -> None:
        """Store one transcript per key (atomically, per entry).

        Raises ``OSError`` when the folder cannot be written.
        """
        for key, text in zip(keys, texts):
            path = self._text_path(namespace, key)
            folder = os.path.dirname(path)
            os.makedirs(folder, exist_ok=True)
            write_checked(path, text.encode("utf-8"))
        self._count(writes=len(keys))


def open_transcript_cache(estimator: Any) -> tuple[TranscriptCache | None, str | None]:
    """``(store, namespace)`` for ``estimator.cache``, or ``(None, None)``
    (caching off, or the folder unusable: warned once)."""
    from skmm.base._cache_sink import open_cache

    store, namespace = open_cache(estimator)
    if store is None:
        return None, None
    return TranscriptCache(store.root), namespace
