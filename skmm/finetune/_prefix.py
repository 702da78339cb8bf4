"""The frozen-prefix store: what a tower computes below its first trainable
layer, kept per item so that epochs, folds and trials reuse it.

A fine-tuned tower is a frozen *prefix* (the layers that do not train) and a
trainable *suffix*.  The prefix's output for an item never changes during
training, so it is computed once per (model, cut point, augmentation view,
item) and kept:

- in memory, in a process-wide store bounded in bytes (the clones that
  ``cross_validate``, ``GridSearchCV`` and ``FusionSearchCV`` make share it);
- on disk, when the tower's encoder has ``cache=`` set, next to the
  embedding cache (``<cache>/prefix-<namespace>/<key[:2]>/<key>.npy``),
  written atomically per item, so it survives runs and is shared between
  processes.

Entries are arrays of any shape (a text's token states, an image's feature
map), stored as ``.npy`` followed by a 4-byte CRC-32 like the embedding
cache's; an entry that fails to load or to verify is deleted and
recomputed.  A folder that cannot be written gives one
:class:`~skmm.exceptions.CacheWarning` naming it; training goes on with the
in-memory store only.
"""

from __future__ import annotations

import io
import os
import threading
from collections import Counter, OrderedDict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["PrefixStore", "clear_prefix_memory", "prefix_stats", "reset_prefix_stats"]

_MEMORY: OrderedDict = OrderedDict()
_MEMORY_BYTES = [0]
_LOCK = threading.RLock()
_STATS: Counter = Counter()


def _memory_limit() -> int:
    return int(float(os.environ.get("SKMM_PREFIX_MEMORY_MB", "2048")) * 2**20)


def prefix_stats() -> dict[str, int]:
    """Items served from memory or disk, and computed, in this process.

    Examples
    --------
    >>> sorted(prefix_stats())
    ['computed', 'disk_hits', 'memory_hits']
    """
    with _LOCK:
        return {
            k: int(_STATS.get(k, 0)) for k in ("memory_hits", "disk_hits", "computed")
        }


def reset_prefix_stats() -> None:
    """Zero the counters of :func:`prefix_stats`."""
    with _LOCK:
        _STATS.clear()


def clear_prefix_memory() -> None:
    """Forget every prefix held in memory (the disk copies stay)."""
    with _LOCK:
        _MEMORY.clear()
        _MEMORY_BYTES[0] = 0


def _remember(key: tuple, value: np.ndarray) -> None:
    limit = _memory_limit()
    if value.nbytes > limit:
        return
    with _LOCK:
        if key in _MEMORY:
            return
        _MEMORY[key] = value
        _MEMORY_BYTES[0] += value.nbytes
        while _MEMORY_BYTES[0] > limit and _MEMORY:
            _, old = _MEMORY.popitem(last=False)
            _MEMORY_BYTES[0] -= old.nbytes


class PrefixStore:
    """Per-item frozen-prefix outputs of one (model, cut point) namespace.

    Parameters
    ----------
    namespace : str
        Identity of the prefix: the encoder's fingerprint, the cut point and
        the augmentation settings.
    root : path or None
        Disk folder (the encoder's cache folder); ``None`` keeps the
        prefixes in memory only.

    Examples
    --------
    >>> import numpy as np
    >>> store = PrefixStore("demo", root=None)
    >>> calls = []
    >>> def compute(items):
    ...     calls.append(len(items))
    ...     return [np.full(2, float(len(i)), np.float32) for i in items]
    >>> [a.tolist() for a in store.get(["k1", "k2"], ["a", "bb"], compute)]
    [[1.0, 1.0], [2.0, 2.0]]
    >>> _ = store.get(["k2"], ["bb"], compute)
    >>> calls  # the second call was served from memory
    [2]
    """

    def __init__(self, namespace: str, root: str | os.PathLike | None = None):
        self.namespace = namespace
        self.root = None if root is None else Path(root).expanduser()
        self._unusable = False

    def _path(self, key: str) -> Path:
        assert self.root is not None
        return self.root / f"prefix-{self.namespace}" / key[:2] / f"{key}.npy"

    def _read(self, key: str) -> np.ndarray | None:
        if self.root is None:
            return None
        from skmm.cache._store import read_checked

        path = self._path(key)
        try:
            body = read_checked(path)
        except OSError:  # absent, unreadable, a folder: a miss
            return None
        try:
            if body is None:
                raise ValueError("checksum mismatch")
            return np.load(io.BytesIO(body), allow_pickle=False)
        except Exception:  # truncated, overwritten or foreign: recompute
            try:
                os.unlink(path)
            except OSError:
                pass
            return None

    def _write(self, key: str, value: np.ndarray) -> None:
        if self.root is None:
            return
        if self._unusable:
            return
        path = self._path(key)
        buf = io.BytesIO()
        np.save(buf, value, allow_pickle=False)
        from skmm.cache._store import unusable_cache_warning, write_checked

        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            write_checked(path, buf.getvalue())
        except OSError as exc:  # an unusable cache folder must not stop training
            self._unusable = True
            unusable_cache_warning(self.root, exc)

    def get(
        self,
        keys: Sequence[str],
        items: Sequence[Any],
        compute: Callable[[list], list[np.ndarray]],
        *,
        batch_size: int = 64,
        progress: Any = None,
    ) -> list[np.ndarray]:
        """The prefix of each item, computing (in batches) only the missing.

        ``compute(items)`` returns one array per item.  ``progress`` (a tqdm
        bar or None) is advanced by the items computed.
        """
        out: list[np.ndarray | None] = [None] * len(keys)
        todo: list[int] = []
        for i, key in enumerate(keys):
            mkey = (self.namespace, key)
            with _LOCK:
                value = _MEMORY.get(mkey)
                if value is not None:
                    _MEMORY.move_to_end(mkey)
            if value is not None:
                out[i] = value
                _STATS["memory_hits"] += 1
                continue
            value = self._read(key)
            if value is not None:
                out[i] = value
                _remember(mkey, value)
                _STATS["disk_hits"] += 1
                continue
            todo.append(i)
        for start in range(0, len(todo), batch_size):
            chunk = todo[start : start + batch_size]
            values = compute([items[i] for i in chunk])
            for i, value in zip(chunk, values):
                value = np.ascontiguousarray(value)
                out[i] = value
                _remember((self.namespace, keys[i]), value)
                self._write(keys[i], value)
            _STATS["computed"] += len(chunk)
            if progress is not None:
                progress.update(len(chunk))
        return out  # type: ignore[return-value]
