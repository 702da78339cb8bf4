"""Exceptions and warnings raised by skmm."""

from __future__ import annotations

from typing import Any

__all__ = [
    "CacheWarning",
    "InvalidFileError",
    "InvalidItemError",
    "InvalidItemWarning",
    "MissingDependencyError",
    "MissingModalityWarning",
    "MissingModelError",
]


class InvalidFileError(ValueError):
    """A file handed in cannot be read: truncated, of another format, malformed.

    Raised by the readers of user files (the command line's tables and
    configuration, :func:`skmm.retrieval.load_index`) instead of the
    underlying library's error (pyarrow, pandas, numpy, zipfile, tomllib,
    pickle, FAISS), which stays attached as ``__cause__``.  The message names
    the file, the line where one is known, and what was expected.

    Parameters
    ----------
    message : str
        The whole message (it names the file).
    path : str or PathLike, optional
        The file.
    line : int, optional
        The 1-based line of the problem, for text formats (CSV, TOML, JSON).

    Attributes
    ----------
    path : str or None
        The file, as given.
    line : int or None
        The 1-based line, where known.
    """

    def __init__(self, message: str, *, path=None, line=None):
        super().__init__(message)
        self.path = None if path is None else str(path)
        self.line = line


class InvalidItemError(ValueError):
    """A cell of an input column could not be read or encoded.

    The message names the column, the row and (for files) the path, so the
    bad item can be found in the user's table.

    Attributes
    ----------
    column : str
        Name of the column (or ``"x0"`` for unnamed input).
    row : object
        Row label (the DataFrame index label when there is one, else the
        position).
    item : str
        A short description of the offending cell (a path, a type, ...).
    """

    def __init__(self, message: str, *, column=None, row=None, item=None):
        super().__init__(message)
        self.column = column
        self.row = row
        self.item = item


class CacheWarning(UserWarning):
    """The embedding cache folder cannot be used; encoding goes on without it."""


class InvalidItemWarning(UserWarning):
    """Some items could not be encoded and were replaced by NaN rows.

    ``column``, ``n_failed``, ``n_total`` and ``first`` (the first failure's
    message) say which, so that a distributed encode can add up the
    partitions' warnings into one (:meth:`counted` writes the message).

    Examples
    --------
    >>> w = InvalidItemWarning.counted("path", 2, 10, "row 3: no such file")
    >>> w.n_failed, str(w)[:43]
    (2, "2 of 10 items in column 'path' could not be")
    """

    def __init__(
        self,
        message: str = "",
        *,
        column: Any = None,
        n_failed: int = 0,
        n_total: int = 0,
        first: str = "",
    ) -> None:
        super().__init__(message)
        self.column = column
        self.n_failed = n_failed
        self.n_total = n_total
        self.first = first

    @classmethod
    def counted(
        cls, column: Any, n_failed: int, n_total: int, first: str
    ) -> InvalidItemWarning:
        """The warning for ``n_failed`` of ``n_total`` items of ``column``."""
        return cls(
            f"{n_failed} of {n_total} items in column {column!r} could not be "
            f"read and were encoded as NaN rows (on_error='nan'). First: {first}",
            column=column,
            n_failed=n_failed,
            n_total=n_total,
            first=first,
        )


class MissingModalityWarning(UserWarning):
    """Rows whose query or target modality is missing were left out (of a
    retriever's fit or of a retrieval score); also
    ``skmm.retrieval.MissingModalityWarning``."""


class MissingDependencyError(ImportError):
    """An optional dependency is not installed; the message names the extra."""


class MissingModelError(FileNotFoundError):
    """Pretrained weights could not be found; the message says how to get them."""
