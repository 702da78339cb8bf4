"""An on-disk, per-item embedding store shared by folds, trials and processes.

Layout: ``<root>/<namespace>/<key[:2]>/<key>.npy``, one float32 vector per
file, where the namespace is the encoder's fingerprint (class, output-changing
parameters, model identity, fitted state, skmm version) and the key is the
content hash of one input item.  Per-item granularity means a new fold whose
items were half seen before computes only the other half.

Each entry is a standard ``.npy`` file (``np.load`` reads it) followed by a
4-byte CRC-32 of the header and numbers.  A read checks the header, the size
and the checksum: an entry that was truncated, overwritten or bit-flipped is
counted as corrupt, deleted and recomputed, never served.  Entries written
by skmm before checksums (no trailer) are treated as misses and rewritten.

Writes go to a temporary file in the same folder and are moved into place
with :func:`os.replace`, which is atomic: a reader (or a process killed with
``kill -9`` mid-write) never leaves a half-written entry under its final
name.  A folder that cannot be used (a file, read-only, not creatable) gives
one :class:`~skmm.exceptions.CacheWarning` naming it, and encoding goes on
without the cache.
"""

from __future__ import annotations

import functools
import io
import json
import os
import shutil
import tempfile
import threading
import warnings
import zlib
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "EmbeddingCache",
    "cache_stats",
    "default_cache_dir",
    "reset_cache_stats",
    "unusable_cache_warning",
]

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


_WARNED: set[str] = set()
# zlib.crc32(data + zlib.crc32(data).to_bytes(4, "little")) for any data
_RESIDUE = 0x2144DF1C


def write_checked(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` and its CRC-32 trailer to ``path``, atomically.

    A temporary file in the same folder is moved into place with
    :func:`os.replace`, so a reader (or a ``kill -9`` mid-write) never sees
    half an entry.  The folder must exist; ``OSError`` is the caller's.
    Shared by the embedding cache, the prefix store and the transcript store.

    Examples
    --------
    >>> import tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "entry")
    >>> write_checked(path, b"abc")
    >>> read_checked(path)
    b'abc'
    """
    folder, name = os.path.split(os.fspath(path))
    fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=folder or ".")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data + zlib.crc32(data).to_bytes(4, "little"))
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def read_checked(path: str | os.PathLike) -> bytes | None:
    """The data :func:`write_checked` wrote at ``path``, or ``None`` when it
    fails its CRC-32 (truncated, overwritten, foreign).  A file that is
    missing or cannot be read raises ``OSError`` (a miss, not damage)."""
    with open(path, "rb") as fh:
        raw = fh.read()
    if len(raw) < 4 or zlib.crc32(raw) != _RESIDUE:
        return None
    return raw[:-4]


def unusable_cache_warning(root: str | os.PathLike, exc: BaseException) -> None:
    """Warn, once per folder and process, that a cache folder is unusable.

    The warning names the folder and the reason; the caller goes on without
    the cache.

    Examples
    --------
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as seen:
    ...     warnings.simplefilter("always")
    ...     unusable_cache_warning("/no/such/doctest", PermissionError("denied"))
    ...     unusable_cache_warning("/no/such/doctest", PermissionError("denied"))
    >>> len(seen)
    1
    """
    from skmm.exceptions import CacheWarning

    name = str(Path(root).expanduser())
    with _STATS_LOCK:
        if name in _WARNED:
            return
        _WARNED.add(name)
    reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    warnings.warn(
        f"The embedding cache folder {name!r} cannot be used ({reason}); "
        "encoding goes on without the cache. Pass cache= a writable folder, "
        "or cache=None to turn it off.",
        CacheWarning,
        stacklevel=4,
    )


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
        """Look up ``keys``; returns ``(values (n, dim), found (n,) bool)``.

        Every entry is verified (header, size, CRC-32) before it is served.
        """
        values = np.full((len(keys), dim), np.nan, dtype=np.float32)
        found = np.zeros(len(keys), dtype=bool)
        corrupt = 0
        header = _npy_header(dim)
        body = len(header) + 4 * dim
        size = body + 4
        root = self._root_str
        sep = os.sep
        crc32 = zlib.crc32
        # os.open/os.read, not open(): no buffered file object per entry,
        # which pays for the checksum (benchmarks/bench_cache.py)
        os_open, os_read, os_close = os.open, os.read, os.close
        flags = os.O_RDONLY | getattr(os, "O_BINARY", 0)
        good: list[int] = []
        raws: list[bytes] = []
        for i, key in enumerate(keys):
            path = f"{root}{sep}{namespace}{sep}{key[:2]}{sep}{key}.npy"
            try:
                fd = os_open(path, flags)
            except FileNotFoundError:
                continue
            except OSError:  # unreadable (permissions): a miss
                continue
            try:
                raw = os_read(fd, size + 1)
            except OSError:  # a folder, an I/O error: a miss
                continue
            finally:
                os_close(fd)
            # the CRC-32 of data followed by its own little-endian CRC is a
            # constant: one pass over the entry checks it, no slicing
            if len(raw) == size and raw.startswith(header) and crc32(raw) == _RESIDUE:
                good.append(i)
                raws.append(raw)
                continue
            if len(raw) == body and raw.startswith(header):
                continue  # written before checksums: a miss, rewritten on put
            corrupt += 1
            try:
                os.unlink(path)
            except OSError:
                pass
        if good:
            block = np.frombuffer(b"".join(raws), dtype=np.uint8).reshape(-1, size)
            values[good] = block[:, len(header) : body].view("<f4")
            found[good] = True
        hits = int(found.sum())
        self._count(hits=hits, misses=len(keys) - hits, corrupt=corrupt)
        return values, found

    def put_many(self, namespace: str, keys: Sequence[str], values: np.ndarray) -> None:
        """Store one row of ``values`` per key (atomically, per entry).

        Raises ``OSError`` when the folder cannot be written; the encoders
        catch it (:meth:`BaseEncoder` warns once and goes on without cache).
        """
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
            write_checked(path, header + vec.tobytes())
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
