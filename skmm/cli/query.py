"""``skmm query``: encode one query and print the gallery's top-k rows."""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from skmm.cli._args import add_command, add_retriever_option, positive_int
from skmm.cli._errors import CLIError, usage, usage_on_bad_file
from skmm.cli._files import (
    ENCODERS_SUFFIX,
    INDEX_HINT,
    describe_block,
    load_retriever,
    resolve_modality,
    retriever_embed,
    sidecar_path,
)
from skmm.cli._io import (
    bad_file,
    cell,
    existing_file,
    format_table,
    load_joblib,
    read_json,
    say,
)

__all__ = ["add_parser", "cmd_query"]

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


def add_parser(sub: Any) -> None:
    """Add ``query`` to the subcommands ``sub``."""
    query = add_command(
        sub,
        "query",
        help="print the top-k gallery rows for a text, image or audio query",
        description="Search an index built by `skmm index` with one query.",
        epilog=_QUERY_EPILOG,
    )
    query.add_argument("index", metavar="INDEX_FILE", help="from `skmm index`")
    query.add_argument("text", metavar="TEXT", nargs="?", help="a text query")
    query.add_argument("--image", metavar="PATH", help="an image file as the query")
    query.add_argument("--audio", metavar="PATH", help="an audio file as the query")
    query.add_argument(
        "-k", type=positive_int, default=5, help="results to print (default: 5)"
    )
    query.add_argument("--json", action="store_true", help="print JSON")
    add_retriever_option(
        query,
        "the retriever the index was built with (default: the copy stored "
        "beside the index)",
    )
    query.add_argument(
        "--query-modality",
        metavar="NAME",
        help="the block whose encoder reads the query, when several could",
    )
    query.add_argument(
        "--device", default="cpu", help="where the query encoder runs (default: cpu)"
    )
    query.set_defaults(func=cmd_query)


def _read_index_meta(path: Path) -> dict:
    meta_path = sidecar_path(path)
    if not meta_path.exists():
        raise usage(
            f"{path} has no {meta_path.name} beside it",
            "build the index with `skmm index ENCODED -o INDEX_FILE`",
        )
    expected = f"the JSON `skmm index` writes beside {path.name}"
    with usage_on_bad_file(INDEX_HINT):
        meta = read_json(meta_path, expected)
        if "skmm_index" not in meta:
            raise bad_file(
                meta_path, "it does not describe an skmm index", expected=expected
            )
        needed = ("modality", "blocks", "columns", "rows", "space")
        lacking = [k for k in needed if k not in meta]
        if lacking or not isinstance(meta["blocks"], dict):
            raise bad_file(
                meta_path,
                f"it lacks {', '.join(lacking) or 'a blocks table'}",
                expected=expected,
            )
        if meta["modality"] not in meta["blocks"]:
            raise bad_file(
                meta_path,
                f"its gallery block {meta['modality']!r} is not among its blocks",
                expected=expected,
            )
    return meta


def _query_item(args: argparse.Namespace) -> tuple[str, Any]:
    given = [
        (kind, value)
        for kind, value in (
            ("text", args.text),
            ("image", args.image),
            ("audio", args.audio),
        )
        if value is not None
    ]
    if len(given) != 1:
        raise usage(
            "give exactly one query: a text, --image PATH or --audio PATH"
            + (f" (got {len(given)})" if given else ""),
            'e.g. skmm query gallery.npz "a red apple" -k 5',
        )
    kind, value = given[0]
    if kind != "text":
        p = existing_file(value, f"{kind} query file")
        value = str(p.resolve())
    return kind, value


def _query_block(meta: dict, kind: str, wanted: str | None) -> str:
    blocks = meta["blocks"]
    if wanted is not None:
        return resolve_modality(blocks, wanted, "--query-modality")
    gallery = meta["modality"]
    if blocks.get(gallery, {}).get("kind") == kind:
        return gallery
    hits = [n for n, b in blocks.items() if b.get("kind") == kind]
    if len(hits) == 1:
        return hits[0]
    if not hits:
        raise usage(
            f"no {kind} encoder was recorded for this index (its blocks: "
            + ", ".join(describe_block(n, b) for n, b in blocks.items())
            + ")",
            f"encode a {kind} column together with the gallery's column",
        )
    raise usage(
        f"several {kind} blocks could encode the query: {', '.join(hits)}",
        f"choose one with --query-modality {hits[0]}",
    )


def _query_encoder(index_path: Path, meta: dict, name: str) -> tuple[Any, bool]:

    from skmm.registry import encoders

    block = meta["blocks"][name]
    enc_file = meta.get("files", {}).get("encoders")
    if enc_file and (index_path.parent / enc_file).exists():
        with usage_on_bad_file(INDEX_HINT):
            fitted = load_joblib(
                index_path.parent / enc_file,
                "the fitted encoders `skmm index` copies beside the index",
            )
        if isinstance(fitted, Mapping) and name in fitted:
            return fitted[name], True
    if not block.get("encoder"):
        raise CLIError(
            f"no encoder is recorded for the {name!r} block",
            "encode with `skmm encode` (it records the encoders) and index again",
        )
    enc = encoders.create(
        block["encoder"], **_from_json_settings(block.get("settings", {}))
    )
    if getattr(enc, "_fit_requires_data", False):
        raise CLIError(
            f"the {block['encoder']!r} encoder must be fitted on the gallery, and "
            f"its fitted copy ({enc_file or ENCODERS_SUFFIX}) is missing",
            "keep the .encoders.joblib file beside the index, or index again",
        )
    return enc, False


def _encode_query(enc: Any, fitted: bool, column: str, item: Any, device: str) -> Any:
    import numpy as np
    import pandas as pd

    params = enc.get_params(deep=False)
    updates = {"verbose": 0} if "verbose" in params else {}
    if "cache" in params:
        updates["cache"] = None  # a one-off query leaves no trace on disk
    if "device" in params and device:
        updates["device"] = device
    if updates:
        enc.set_params(**updates)
    X = pd.DataFrame({column: [item]})
    vec = enc.transform(X) if fitted else enc.fit(X).transform(X)
    vec = np.asarray(vec, dtype=np.float32)
    if not np.isfinite(vec).all():
        raise CLIError(
            "the query could not be encoded (it reads as a missing item)",
            "pass a non-empty text or a readable file",
        )
    return vec


def _from_json_settings(settings: Mapping[str, Any]) -> dict:
    # JSON turned tuples (ngram_range, size) into lists
    return {k: tuple(v) if isinstance(v, list) else v for k, v in settings.items()}


def cmd_query(args: argparse.Namespace) -> int:
    """``skmm query``: encode one query and print the gallery's top-k rows.

    Parameters
    ----------
    args : argparse.Namespace
        ``index``, ``text``, ``image``, ``audio``, ``k``, ``json``,
        ``retriever``, ``query_modality``, ``device``.

    Returns
    -------
    int
        The exit code (0).
    """
    import numpy as np
    import pandas as pd

    from skmm.retrieval import load_index

    path = existing_file(args.index, "index file")
    with usage_on_bad_file(INDEX_HINT):
        index = load_index(path)  # first: a damaged index fails before any work
    meta = _read_index_meta(path)
    if len(meta["rows"]) != len(index):
        raise usage(
            f"{path} holds {len(index)} vectors but {sidecar_path(path).name} "
            f"lists {len(meta['rows'])} rows: they come from different runs",
            INDEX_HINT,
        )
    kind, item = _query_item(args)
    name = _query_block(meta, kind, args.query_modality)
    gallery = meta["modality"]
    blocks = meta["blocks"]

    retriever = None
    if args.retriever:
        if meta["space"] != "retriever":
            raise usage(
                "this index holds encoder vectors (built without --retriever); "
                "a retriever's queries cannot be compared with them",
                "index again with `skmm index ENCODED --retriever FILE ...`",
            )
        retriever = load_retriever(args.retriever)
    elif meta["space"] == "retriever":
        stored = meta.get("files", {}).get("retriever")
        if not stored or not (path.parent / stored).exists():
            raise CLIError(
                "the index was built in a retriever's space, and its copy of the "
                "retriever is missing",
                "pass the retriever again with --retriever FILE",
            )
        retriever = load_retriever(path.parent / stored)
    if retriever is None and name != gallery:
        raise usage(
            f"a {kind} query ({name!r} block, {blocks[name].get('encoder')}) cannot "
            f"be compared with the {gallery!r} gallery "
            f"({blocks[gallery].get('encoder')}): they live in different spaces",
            "index with --retriever FILE (a fitted skmm retriever that embeds "
            f"both {name} and {gallery} into one space), or query with an item "
            f"of the gallery's modality ({blocks[gallery].get('kind')})",
        )

    enc, fitted = _query_encoder(path, meta, name)
    vec = _encode_query(enc, fitted, blocks[name]["column"] or name, item, args.device)
    if retriever is not None:
        frame = pd.DataFrame(vec, columns=blocks[name]["features"])
        vec = retriever_embed(retriever, frame, name)
    k = min(int(args.k), len(index))
    idx, scores = index.search(np.asarray(vec, dtype=np.float32), k=k)
    columns = meta["columns"]
    results = []
    for rank, (i, s) in enumerate(zip(idx[0], scores[0]), start=1):
        if i < 0:
            continue
        row = dict(zip(columns, meta["rows"][int(i)]))
        results.append({"rank": rank, "score": float(s), **row})
    if args.json:
        say(
            json.dumps(
                {
                    "query": item,
                    "query_modality": name,
                    "gallery_modality": gallery,
                    "results": results,
                },
                indent=2,
            )
        )
    else:
        header = ["rank", "score", *columns]
        table = [[str(r["rank"]), f"{r['score']:.4f}"] for r in results]
        for row, r in zip(table, results):
            row.extend(cell(r[c]) for c in columns)
        say(format_table(header, table))
    return 0
