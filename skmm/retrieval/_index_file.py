"""The index file format: an ``.npz`` archive without pickle.

One entry ``meta`` holds JSON (the index class's name, the format version,
its parameters, ``dim`` and ``ntotal``); the others hold the data (the
vectors, or FAISS's serialised index).  :func:`write_index_file` writes an
archive atomically; :func:`_read_index_file` reads one back and turns every
way a file can fail to be an index into one
:class:`~skmm.exceptions.InvalidFileError` naming the file.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
from pathlib import Path
from typing import Any

import numpy as np

from skmm.exceptions import InvalidFileError

_FORMAT_VERSION = 1

# the classes whose files this format holds (BaseIndex.load maps them back)
INDEX_CLASSES = ("ExactIndex", "FaissIndex")


def write_index_file(
    path: str | Path,
    index_class: str,
    *,
    params: dict,
    dim: int | None,
    ntotal: int,
    arrays: dict[str, np.ndarray],
) -> None:
    """Write one index: its class name, parameters and shape, and its data.

    The archive is written to a temporary file beside ``path`` and renamed
    into place, so an interrupted write leaves no truncated index behind.
    """
    meta = {
        "class": index_class,
        "format": _FORMAT_VERSION,
        "params": params,
        "dim": dim,
        "ntotal": ntotal,
    }
    target = Path(path)
    if not target.parent.is_dir():
        raise FileNotFoundError(f"No folder {target.parent} to save {target} in")
    tmp = target.with_name(f".{target.name}.{os.getpid()}-{threading.get_ident()}.tmp")
    try:
        with open(tmp, "wb") as fh:
            np.savez(fh, meta=np.asarray(json.dumps(meta)), **arrays)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


_EXPECTED_INDEX = (
    "an .npz archive written by ExactIndex.save or FaissIndex.save "
    "(`skmm index` writes one)"
)

# the first bytes of formats an index file is mistaken for
_MAGIC = (
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"PAR1", "a Parquet file"),
    (b"\x93NUMPY", "a single NumPy array (.npy)"),
    (b"\x1f\x8b", "a gzip file"),
    (b"\x80", "a Python pickle (joblib) file"),
    (b"SQLite format 3", "an SQLite database"),
    (b"{", "JSON text"),
)


def _file_kind(head: bytes) -> str:
    """What the first bytes of a file look like (for error messages).

    A known format's magic bytes name it; otherwise the bytes are "text"
    when nearly all of them decode as UTF-8 printable characters (a stray
    Latin-1 accent still counts as text), else binary data.
    """
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            return kind
    chars = head.decode("utf-8", errors="replace")
    odd = sum(c == "\ufffd" or (c < " " and c not in "\t\n\r") for c in chars)
    if chars and odd > 0.1 * len(chars):
        return "binary data of an unknown format"
    return "text"


def _bad_index(path: Any, problem: str) -> InvalidFileError:
    return InvalidFileError(
        f"{path} does not hold an skmm index: {problem}; expected {_EXPECTED_INDEX}",
        path=path,
    )


def _read_index_file(path: Any) -> tuple[dict, dict[str, np.ndarray]]:
    """The checked metadata and the arrays of an index file.

    Every way a file can fail to be an index (empty, truncated, another
    format, a damaged archive or metadata) becomes one
    :class:`~skmm.exceptions.InvalidFileError` naming the file; a file that
    cannot be opened raises the usual ``OSError``.
    """
    import zipfile
    import zlib

    with open(path, "rb") as fh:  # FileNotFoundError & co. as they are
        head = fh.read(1024)
    if not head:
        raise _bad_index(path, "the file is empty")
    if not head.startswith(b"PK"):
        raise _bad_index(path, f"the file holds {_file_kind(head)}")
    try:
        with np.load(path, allow_pickle=False) as data:
            if "meta" not in data.files:
                raise _bad_index(
                    path,
                    "the archive has no 'meta' entry (it holds "
                    f"{', '.join(data.files) or 'nothing'})",
                )
            meta = json.loads(str(data["meta"]))
            arrays = {k: data[k] for k in data.files if k != "meta"}
    except InvalidFileError:
        raise
    except (zipfile.BadZipFile, zlib.error, EOFError, ValueError, KeyError) as exc:
        cut = isinstance(exc, (zipfile.BadZipFile, EOFError, zlib.error))
        what = "truncated or damaged" if cut else "damaged"
        raise _bad_index(
            path, f"the archive is {what} ({type(exc).__name__}: {exc})"
        ) from exc
    if not isinstance(meta, dict) or meta.get("class") not in INDEX_CLASSES:
        cls = meta.get("class") if isinstance(meta, dict) else None
        raise _bad_index(path, f"its metadata names no skmm index class (got {cls!r})")
    if not isinstance(meta.get("format"), int) or meta["format"] > _FORMAT_VERSION:
        raise _bad_index(
            path,
            f"its format {meta.get('format')!r} is not one this skmm reads "
            f"(up to {_FORMAT_VERSION}); upgrade skmm or save the index again",
        )
    ntotal, dim = meta.get("ntotal"), meta.get("dim")
    if (
        not isinstance(meta.get("params"), dict)
        or not isinstance(ntotal, int)
        or ntotal < 0
        or (ntotal and not isinstance(dim, int))
    ):
        raise _bad_index(path, "its metadata lacks params, ntotal or dim")
    vectors = arrays.get("vectors")
    if ntotal and vectors is not None and vectors.shape != (ntotal, dim):
        raise _bad_index(
            path,
            f"it records {ntotal} vectors of dimension {dim} but holds an "
            f"array of shape {vectors.shape}",
        )
    return meta, arrays
