"""An on-disk, per-item embedding store shared by folds, trials and processes.

Layout: ``<root>/<namespace>/<key[:2]>/<key>.npy``, one float32 vector per
file, where the namespace is the encoder's fingerprint (class, output-changing
parameters, model identity, fitted state, skmm version) and the key is the
content hash of one input item.  Per-item granularity means a new fold whose
items were half seen before computes only the other half.

Writes go to a temporary file in the same folder and are moved into place
with :func:`os.replace`, which is atomic: a reader (or a process killed with
``kill -9`` mid-write) never leaves a half-written entry under its final
name.  An entry that cannot be read back (truncated by hand, wrong width) is
counted as corrupt, deleted and recomputed.
"""

from __future__ import annotations

import functools
import io
import json
import os
import shutil
import tempfile
import threading
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["EmbeddingCache", "cache_stats", "default_cache_dir", "reset_cache_stats"]

_STATS: dict[str, Counter] = {}
_STATS_LOCK = threading.Lock()


def default_cache_dir() -> Path:
    """``$SKMM_CACHE_DIR``, else ``~/.cache/skmm/embeddings``."""
    env = os.environ.get("SKMM_CACHE_DIR")
    if env:
        return Path(env).expanduser()
    return Path("~/.cache/skmm/embeddings").expanduser()


def cache_stats(root: str | os.PathLike | None = None) -> dict[str, int]:
    """Hits, misses, writes and corrupt entries seen by this process.

    Parameters
    ----------
    root : path, optional
        One cache folder; ``None`` sums over every folder used.

    Examples
    --------
    >>> sorted(cache_stats())
    ['corrupt', 'hits', 'misses', 'writes']
    """
    with _STATS_LOCK:
        if root is not None:
            counter = Counter(_STATS.get(str(Path(root).expanduser()), Counter()))
        else:
            counter = sum(_STATS.values(), Counter())
    return {k: int(counter.get(k, 0)) for k in ("hits", "misses", "writes", "corrupt")}


def reset_cache_stats() -> None:
    """Zero the counters of :func:`cache_stats`."""
    with _STATS_LOCK:
        _STATS.clear()


@functools.lru_cache(maxsize=64)
def _npy_header(dim: int) -> bytes:
    """The exact ``.npy`` (format 1.0) header of a float32 vector of ``dim``."""
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        buf, {"descr": "<f4", "fortran_order": False, "shape": (int(dim),)}
    )
    return buf.getvalue()


class EmbeddingCache:
    """A folder of cached embeddings.

    Parameters
    ----------
    root : path, optional
        The folder (created on first write); default :func:`default_cache_dir`.

    Examples
    --------
    >>> import tempfile
    >>> cache = EmbeddingCache(tempfile.mkdtemp())
    >>> cache.put_many("enc", ["k1"], np.ones((1, 3), np.float32))
    >>> values, found = cache.get_many("enc", ["k1", "k2"], dim=3)
    >>> found.tolist(), values[0].tolist()
    ([True, False], [1.0, 1.0, 1.0])
    """

    def __init__(self, root: str | os.PathLike | None = None):
        self.root = Path(root).expanduser() if root is not None else default_cache_dir()

    def _count(self, **kw: int) -> None:
        with _STATS_LOCK:
            _STATS.setdefault(str(self.root), Counter()).update(kw)

    def _path(self, namespace: str, key: str) -> Path:
        return self.root / namespace / key[:2] / f"{key}.npy"

    @property
    def _root_str(self) -> str:
        return str(self.root)

    def get_many(
        self, namespace: str, keys: Sequence[str], dim: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """Look up ``keys``; returns ``(values (n, dim), found (n,) bool)``."""
        values = np.full((len(keys), dim), np.nan, dtype=np.float32)
        found = np.zeros(len(keys), dtype=bool)
        corrupt = 0
        header = _npy_header(dim)
        size = len(header) + 4 * dim
        root = self._root_str
        sep = os.sep
        for i, key in enumerate(keys):
            path = f"{root}{sep}{namespace}{sep}{key[:2]}{sep}{key}.npy"
            try:
                with open(path, "rb") as fh:
                    raw = fh.read(size + 1)
            except FileNotFoundError:
                continue
            except OSError:
                raw = b""
            if len(raw) == size and raw.startswith(header):
                values[i] = np.frombuffer(raw, dtype="<f4", offset=len(header))
                found[i] = True
                continue
            # not the layout we write: let numpy judge, else it is corrupt
            vec = None
            try:
                vec = np.load(path, allow_pickle=False)
            except FileNotFoundError:
                continue
            except Exception:  # truncated / garbage: recompute
                vec = None
            if vec is None or vec.dtype != np.float32 or vec.shape != (dim,):
                corrupt += 1
                try:
                    os.unlink(path)
                except OSError:
                    pass
                continue
            values[i] = vec
            found[i] = True
        hits = int(found.sum())
        self._count(hits=hits, misses=len(keys) - hits, corrupt=corrupt)
        return values, found

    def put_many(self, namespace: str, keys: Sequence[str], values: np.ndarray) -> None:
        """Store one row of ``values`` per key (atomically, per entry)."""
        values = np.ascontiguousarray(values, dtype="<f4")
        if values.ndim != 2:
            raise ValueError(f"values must be 2-D; got shape {values.shape}")
        header = _npy_header(values.shape[1])
        made: set[str] = set()
        for key, vec in zip(keys, values):
            path = self._path(namespace, key)
            folder = str(path.parent)
            if folder not in made:
                os.makedirs(folder, exist_ok=True)
                made.add(folder)
            fd, tmp = tempfile.mkstemp(prefix=f".{key}.", suffix=".tmp", dir=folder)
            try:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(header + vec.tobytes())
                os.replace(tmp, path)
            except BaseException:
                try:
                    os.unlink(tmp)
                except OSError:
                    pass
                raise
        self._count(writes=len(keys))

    def write_meta(self, namespace: str, meta: dict[str, Any]) -> None:
        """Describe a namespace for humans (``meta.json``), once."""
        folder = self.root / namespace
        target = folder / "meta.json"
        if target.exists():
            return
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".meta.", suffix=".tmp", dir=folder)
        with os.fdopen(fd, "w") as fh:
            json.dump(meta, fh, indent=1, default=str)
        os.replace(tmp, target)

    def info(self) -> dict[str, Any]:
        """Entries and bytes on disk, per namespace and in total."""
        spaces = {}
        total_n = total_b = 0
        if self.root.exists():
            for ns in sorted(p for p in self.root.iterdir() if p.is_dir()):
                n = b = 0
                for f in ns.glob("*/*.npy"):
                    n += 1
                    b += f.stat().st_size
                meta_file = ns / "meta.json"
                meta = json.loads(meta_file.read_text()) if meta_file.exists() else {}
                spaces[ns.name] = {
                    "entries": n,
                    "bytes": b,
                    "encoder": meta.get("encoder"),
                }
                total_n += n
                total_b += b
        return {
            "root": str(self.root),
            "entries": total_n,
            "bytes": total_b,
            "namespaces": spaces,
        }

    def clear(self, namespace: str | None = None) -> None:
        """Delete one namespace, or everything under the root."""
        target = self.root / namespace if namespace else self.root
        if target.exists():
            shutil.rmtree(target)
