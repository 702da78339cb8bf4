"""Command line: ``python -m skmm.datasets fetch NAME [--data-home DIR]``.

Examples
--------
>>> from skmm.datasets.__main__ import main
>>> main(["list"])  # doctest: +NORMALIZE_WHITESPACE
emoji
multiple_features
tuxpaint
0
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from skmm.datasets._base import (
    DataNotFoundError,
    fetch,
    get_data_home,
    list_datasets,
)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``skmm.datasets`` command line; return the exit status."""
    parser = argparse.ArgumentParser(
        prog="python -m skmm.datasets",
        description="Fetch and build skmm's real data sets into the data home.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="list the data sets")
    p = sub.add_parser("fetch", help="obtain the sources and build the cache")
    p.add_argument("name", choices=[*list_datasets(), "all"])
    p.add_argument(
        "--data-home", default=None, help="default: $SKMM_DATA or ~/.cache/skmm/data"
    )
    p.add_argument(
        "--no-install",
        action="store_true",
        help="do not run package managers; print the commands instead",
    )
    p.add_argument("--force", action="store_true", help="rebuild the cache")
    p.add_argument("--quiet", action="store_true")
    sub.add_parser("home", help="print the data home")
    args = parser.parse_args(argv)
    if args.command == "list":
        print("\n".join(list_datasets()))
        return 0
    if args.command == "home":
        print(get_data_home())
        return 0
    try:
        folder = fetch(
            args.name,
            data_home=args.data_home,
            allow_install=not args.no_install,
            force=args.force,
            verbose=not args.quiet,
        )
    except DataNotFoundError as exc:
        print(exc, file=sys.stderr)
        return 1
    print(folder)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
