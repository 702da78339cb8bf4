"""``skmm datasets``: list, fetch or locate the real data sets.

The command is :mod:`skmm.datasets.__main__`'s; this module hands it the
arguments.
"""

from __future__ import annotations

import argparse
from typing import Any

__all__ = ["add_parser", "cmd_datasets"]


def add_parser(sub: Any) -> None:
    """Add ``datasets`` to the subcommands ``sub``."""
    datasets = sub.add_parser(
        "datasets",
        help="list, fetch or locate the real data sets",
        add_help=False,
        description="See `skmm datasets --help`.",
    )
    datasets.add_argument("args", nargs=argparse.REMAINDER)
    datasets.set_defaults(func=cmd_datasets)


def cmd_datasets(args: argparse.Namespace) -> int:
    """``skmm datasets ...``: run ``python -m skmm.datasets ...``.

    Parameters
    ----------
    args : argparse.Namespace
        ``args``: the words after ``datasets`` (``--help`` when none).

    Returns
    -------
    int
        The exit code.
    """
    from skmm.datasets.__main__ import main as datasets_main

    return datasets_main(args.args or ["--help"])
