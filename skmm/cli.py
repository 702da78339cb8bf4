"""The ``skmm`` command line.

Errors print one readable line and a hint, and exit non-zero; ``--debug``
shows the traceback.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence

__all__ = ["main"]


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="skmm",
        description="Multimodal learning and cross-modal retrieval, sklearn-style.",
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    demo = sub.add_parser(
        "demo",
        help="the main job: encode real texts and images and report",
        description=(
            "Encode real texts with MiniLM and real images with MobileNetV2 "
            "(and the classic encoders), then print shapes and throughput."
        ),
    )
    demo.add_argument("--quick", action="store_true", help="a smaller sample")
    demo.add_argument(
        "--n", type=int, default=None, help="number of items to encode per modality"
    )
    demo.set_defaults(func=_cmd_demo)

    datasets = sub.add_parser(
        "datasets",
        help="list, fetch or locate the real data sets",
        add_help=False,
        description="See `skmm datasets --help`.",
    )
    datasets.add_argument("args", nargs=argparse.REMAINDER)
    datasets.set_defaults(func=_cmd_datasets)
    return parser


def _cmd_datasets(args: argparse.Namespace) -> int:
    from skmm.datasets.__main__ import main as datasets_main

    return datasets_main(args.args or ["--help"])


def _cmd_demo(args: argparse.Namespace) -> int:
    from skmm._demo import run_demo

    run_demo(quick=args.quick, n=args.n)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``skmm`` command; returns the exit code."""
    parser = _build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    start = time.perf_counter()
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("skmm: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        if args.debug:
            raise
        print(f"skmm: error: {type(exc).__name__}: {exc}", file=sys.stderr)
        print("hint: run again with --debug for the traceback", file=sys.stderr)
        return 1
    finally:
        if args.debug:
            print(f"[{time.perf_counter() - start:.1f}s]", file=sys.stderr)
