"""``skmm demo``: the main job on real emoji data, with a report.

The pipeline itself is :func:`skmm.demo.run_demo`; this module holds the
command's options.
"""

from __future__ import annotations

import argparse
from typing import Any

from skmm.cli._args import add_command

__all__ = ["add_parser", "cmd_demo"]


def add_parser(sub: Any) -> None:
    """Add ``demo`` to the subcommands ``sub``."""
    demo = add_command(
        sub,
        "demo",
        help="the main job: retrieval and fusion search on real emoji, with a report",
        description=(
            "On the emoji data set (built on first run): encode ~1,900 names with\n"
            "MiniLM and their Noto/OpenMoji drawings with MobileNetV2 (cached);\n"
            "cross-modal retrieval text->image and image->text (Ridge, CCA, PLS,\n"
            "contrastive; Recall@1/5/10); FusionSearchCV over the fusion\n"
            "strategies (Optuna, SQLite file in the report folder, resumable);\n"
            "compare_models against logistic baselines; an HTML report."
        ),
        epilog="example:\n  skmm demo --quick --out /tmp/skmm_report",
    )
    demo.add_argument(
        "--quick",
        action="store_true",
        help="300 concepts, fewer trials and epochs (about a minute when cached)",
    )
    demo.add_argument(
        "--n", type=int, default=None, help="number of emoji concepts (default: all)"
    )
    demo.add_argument(
        "--out",
        default="skmm_demo_report",
        help="report folder (default: ./skmm_demo_report)",
    )
    demo.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    demo.set_defaults(func=cmd_demo)


def cmd_demo(args: argparse.Namespace) -> int:
    """``skmm demo``: run :func:`skmm.demo.run_demo`.

    Parameters
    ----------
    args : argparse.Namespace
        ``quick``, ``n``, ``out``, ``seed``.

    Returns
    -------
    int
        The exit code (0).
    """
    from skmm.demo import run_demo

    run_demo(quick=args.quick, n=args.n, out=args.out, seed=args.seed)
    return 0
