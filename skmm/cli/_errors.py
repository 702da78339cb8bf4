"""How the commands fail: :class:`CLIError` and the exit codes.

A command raises :class:`CLIError` for an error it can explain in one line
and a hint; :func:`skmm.cli.main` prints it and returns its exit code.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from skmm.exceptions import InvalidFileError

__all__ = [
    "EXIT_RUNTIME",
    "EXIT_USAGE",
    "CLIError",
    "usage",
    "usage_on_bad_file",
]

EXIT_USAGE = 2
EXIT_RUNTIME = 1


class CLIError(Exception):
    """An error the command line reports as one line and a hint.

    Parameters
    ----------
    message : str
        What went wrong (printed after ``skmm: error:``).
    hint : str, optional
        What to do about it (printed after ``hint:``).
    exit_code : int, default=1
        ``2`` (:data:`EXIT_USAGE`) for a wrong command line, input or
        configuration; ``1`` (:data:`EXIT_RUNTIME`) for a failure while
        running.
    """

    def __init__(
        self, message: str, hint: str | None = None, *, exit_code: int = EXIT_RUNTIME
    ) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.exit_code = exit_code


def usage(message: str, hint: str | None = None) -> CLIError:
    """A :class:`CLIError` for a wrong command line, input or configuration.

    Parameters
    ----------
    message : str
    hint : str, optional

    Returns
    -------
    CLIError
        With exit code 2.
    """
    return CLIError(message, hint, exit_code=EXIT_USAGE)


@contextlib.contextmanager
def usage_on_bad_file(hint: str) -> Iterator[None]:
    """Report an :class:`~skmm.exceptions.InvalidFileError` raised inside as a
    usage error with ``hint``."""
    try:
        yield
    except InvalidFileError as exc:
        raise CLIError(str(exc), hint, exit_code=EXIT_USAGE) from exc
