"""Argument types and help text the commands' parsers share."""

from __future__ import annotations

import argparse
import textwrap
from typing import Any

__all__ = [
    "add_command",
    "add_encoded_argument",
    "add_retriever_option",
    "paragraph",
    "positive_float",
    "positive_int",
]


def positive_int(text: str) -> int:
    """An ``argparse`` type: an integer >= 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {value}")
    return value


def positive_float(text: str) -> float:
    """An ``argparse`` type: a number > 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a number > 0, got {value}")
    return value


def paragraph(text: str) -> str:
    """``text`` on lines of at most 78 characters (a command's description)."""
    return textwrap.fill(" ".join(text.split()), width=78)


def add_command(
    sub: Any, name: str, *, help: str, description: str, epilog: str | None = None
) -> argparse.ArgumentParser:
    """Add the subcommand ``name`` to ``sub``; its help is laid out as written.

    Parameters
    ----------
    sub : argparse subparsers
        From ``parser.add_subparsers()``.
    name : str
    help : str
        The line ``skmm --help`` shows for the command.
    description, epilog : str
        The text above and below the command's options in its ``--help``.

    Returns
    -------
    argparse.ArgumentParser
        The command's parser.
    """
    return sub.add_parser(
        name,
        help=help,
        description=description,
        epilog=epilog,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def add_encoded_argument(parser: argparse.ArgumentParser) -> None:
    """The ``ENCODED`` argument: a file written by ``skmm encode``."""
    parser.add_argument(
        "encoded", metavar="ENCODED", help="a .parquet or .npz from `skmm encode`"
    )


def add_retriever_option(parser: argparse.ArgumentParser, help: str) -> None:
    """The ``--retriever FILE`` option: a fitted skmm retriever (joblib)."""
    parser.add_argument("--retriever", metavar="FILE", help=help)
