"""Content hashes of items, used for de-duplication (and the embedding cache)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["hash_item"]


def hash_item(item: Any) -> str:
    """A stable hex digest of one cell's content.

    Strings hash their text, bytes their bytes, arrays their dtype, shape and
    buffer, PIL images their mode, size and pixels.  Paths (``pathlib.Path``)
    hash the file's content, so a copy under another name gets the same key
    and an edited file a new one (an unreadable path hashes its name).

    Examples
    --------
    >>> hash_item("a cat") == hash_item("a cat")
    True
    >>> hash_item(np.zeros(3)) == hash_item(np.zeros(4))
    False
    """
    h = hashlib.blake2b(digest_size=16)
    if isinstance(item, str):
        h.update(b"s")
        h.update(item.encode("utf-8", "surrogatepass"))
    elif isinstance(item, (bytes, bytearray, memoryview)):
        h.update(b"b")
        h.update(bytes(item))
    elif isinstance(item, os.PathLike):
        # content, not name: a renamed copy hits, an edited file misses
        p = Path(item).expanduser()
        try:
            with open(p, "rb") as fh:
                h.update(b"f")
                for chunk in iter(lambda: fh.read(1 << 20), b""):
                    h.update(chunk)
        except OSError:
            # unreadable: key by name; reading it later reports the error
            h.update(b"p")
            h.update(str(p).encode())
    elif isinstance(item, np.ndarray):
        arr = np.ascontiguousarray(item)
        h.update(b"a")
        # item's own shape: ascontiguousarray makes a 0-d array 1-d, and a
        # 0-d cell (an error) must not share the key of a 1-sample one
        h.update(f"{arr.dtype.str}{item.shape}".encode())
        h.update(arr.view(np.uint8).reshape(-1).data if arr.size else b"")
    elif isinstance(item, tuple):
        h.update(b"t")
        for part in item:
            h.update(hash_item(part).encode())
    elif hasattr(item, "tobytes") and hasattr(item, "mode") and hasattr(item, "size"):
        # PIL image
        h.update(b"i")
        h.update(f"{item.mode}{item.size}".encode())
        h.update(item.tobytes())
    elif isinstance(item, (int, float, np.number)):
        h.update(b"n")
        h.update(repr(item).encode())
    else:
        raise TypeError(f"cannot hash an item of type {type(item).__name__}")
    return h.hexdigest()
