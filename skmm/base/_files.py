"""Opening a cell that is a file: a path to one, or its bytes."""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

__all__ = ["file_source"]


def file_source(cell: Any, kind: str) -> tuple[str | io.BytesIO, str] | None:
    """What a reader opens for a path or bytes cell, and how errors name it.

    Parameters
    ----------
    cell : Any
        A cell of a column of ``kind`` files.
    kind : str
        What the file holds (``"audio"``, ``"video"``), for the messages.

    Returns
    -------
    (str or io.BytesIO, str) or None
        The path (``~`` expanded) or a stream over the bytes, and its label
        for error messages (the quoted path, or ``"the bytes"``); ``None``
        for a cell that is neither a path nor bytes.

    Raises
    ------
    FileNotFoundError, IsADirectoryError
        For a path to nothing, or to a folder.
    ValueError
        For empty bytes.

    Examples
    --------
    >>> file_source(b"RIFF", "audio")[1]
    'the bytes'
    >>> file_source("/no/such.wav", "audio")
    Traceback (most recent call last):
    ...
    FileNotFoundError: no such audio file: '/no/such.wav'
    >>> file_source(b"", "audio")
    Traceback (most recent call last):
    ...
    ValueError: empty bytes: not an audio file
    """
    a_file = f"{'an' if kind[:1] in 'aeiou' else 'a'} {kind} file"
    if isinstance(cell, (str, os.PathLike)):
        path = Path(os.fspath(cell)).expanduser()
        if not path.exists():
            raise FileNotFoundError(f"no such {kind} file: {str(path)!r}")
        if path.is_dir():
            raise IsADirectoryError(f"{str(path)!r} is a directory, not {a_file}")
        return str(path), repr(str(path))
    if isinstance(cell, (bytes, bytearray, memoryview)):
        if len(cell) == 0:
            raise ValueError(f"empty bytes: not {a_file}")
        return io.BytesIO(bytes(cell)), "the bytes"
    return None
