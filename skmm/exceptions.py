"""Exceptions and warnings raised by skmm."""

from __future__ import annotations

__all__ = [
    "InvalidItemError",
    "InvalidItemWarning",
    "MissingDependencyError",
    "MissingModelError",
]


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


class InvalidItemWarning(UserWarning):
    """Some items could not be encoded and were replaced by NaN rows."""


class MissingDependencyError(ImportError):
    """An optional dependency is not installed; the message names the extra."""


class MissingModelError(FileNotFoundError):
    """Pretrained weights could not be found; the message says how to get them."""
