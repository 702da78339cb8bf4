"""``skmm index``: build a search index over one block of an encoded file.

A folder of shards (``skmm encode --workers``) is indexed one shard at a
time: FAISS IVF trains on a sample first, then every index adds shard by
shard, so memory holds the index, one shard and the sample
(:func:`skmm.retrieval.build_index_from_shards`).
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
from pathlib import Path
from typing import Any

from skmm.cli._args import (
    add_command,
    add_encoded_argument,
    add_retriever_option,
    paragraph,
    positive_int,
)
from skmm.cli._errors import CLIError, usage, usage_on_bad_file
from skmm.cli._files import (
    ENCODED_HINT,
    ENCODERS_SUFFIX,
    RETRIEVER_SUFFIX,
    describe_block,
    load_retriever,
    read_encoded,
    resolve_modality,
    retriever_embed,
    sidecar_path,
)
from skmm.cli._io import say

__all__ = ["INDEX_KINDS", "add_parser", "cmd_index", "memory_size"]

INDEX_KINDS = ("exact", "faiss-flat", "faiss-ivf", "faiss-hnsw")
_INDEX_FORMAT = 1

_INDEX_EPILOG = """\
The index is saved with skmm.retrieval (ExactIndex / FaissIndex, cosine
similarity); beside it INDEX_FILE.skmm.json records the block, the encoders
and the rows (__row__ and the kept columns) that `skmm query` prints.

With --retriever FILE (a fitted skmm retriever saved with joblib.dump, e.g.
CCARetriever or ContrastiveRetriever fitted on the encoded table), the
gallery is embedded with retriever.embed(..., modality=...), so queries of
the retriever's other modality (text -> image) can be answered.

A folder of shards (part-00000.parquet, ... from `skmm encode --workers`)
is read one shard at a time: faiss-ivf trains on a uniform sample of
--train-size rows, then each shard is added in turn.  Memory holds the index,
one shard and the sample (plus the displayed rows); --max-memory refuses a
build whose estimate exceeds it, and the peak is reported.

examples
  skmm index products.parquet --modality image --retriever cca.joblib \\
      -o photos.index
  skmm index encoded/ --modality image --kind faiss-hnsw --max-memory 8G \\
      -o photos.index
"""


def add_parser(sub: Any) -> None:
    """Add ``index`` to the subcommands ``sub``."""
    index = add_command(
        sub,
        "index",
        help="build a search index over one modality of an encoded file",
        description=paragraph(
            "Build a gallery index over one modality block of a file written "
            "by `skmm encode`, for `skmm query`."
        ),
        epilog=_INDEX_EPILOG,
    )
    add_encoded_argument(index)
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
    add_retriever_option(
        index,
        "a fitted skmm retriever (joblib); embeds the gallery into its shared space",
    )
    index.add_argument(
        "--device", default="auto", help="where the exact index scores (default: auto)"
    )
    index.add_argument(
        "--train-size",
        type=positive_int,
        default=100_000,
        metavar="N",
        help="shard folders, faiss-ivf: rows sampled to train on (default: 100000)",
    )
    index.add_argument(
        "--max-memory",
        type=memory_size,
        metavar="SIZE",
        help="shard folders: refuse a build estimated above SIZE (4G, 512M, bytes)",
    )
    index.set_defaults(func=cmd_index)


def memory_size(text: str) -> int:
    """An ``argparse`` type: bytes, or a number with K, M, G or T (powers of 1024)."""
    units = {"": 1, "K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}
    t = text.strip().upper().removesuffix("IB").removesuffix("B")
    unit = t[-1:] if t[-1:] in units else ""
    try:
        value = float(t[: len(t) - len(unit)]) * units[unit]
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(
            f"expected a size such as 4G, 512M or 1000000, got {text!r}"
        )
    return int(value)


def _make_index(kind: str, n: int, device: str | None) -> Any:
    from skmm.retrieval import ExactIndex, FaissIndex

    if kind == "exact":
        return ExactIndex(metric="cosine", device=device or "auto")
    faiss_kind = kind.split("-", 1)[1]
    params: dict[str, Any] = {"kind": faiss_kind, "metric": "cosine"}
    if faiss_kind == "ivf":
        params["nlist"] = max(1, min(1024, int(math.sqrt(n))))
    return FaissIndex(**params)


def _choose_block(blocks: dict, wanted: str | None) -> str:
    if wanted is None:
        if len(blocks) > 1:
            raise usage(
                "the encoded file holds several modalities: "
                + ", ".join(describe_block(n, b) for n, b in blocks.items()),
                f"choose the gallery with --modality {next(iter(blocks))}",
            )
        return next(iter(blocks))
    return resolve_modality(blocks, wanted, "--modality")


def _finite_rows(vectors: Any, name: str, where: str) -> Any:
    import numpy as np

    ok = np.isfinite(vectors).all(axis=1)
    if not ok.any():
        raise CLIError(
            f"no row of {where} holds the {name!r} modality (all NaN)",
            "check the encoded column: missing cells give NaN rows",
        )
    return ok


def cmd_index(args: argparse.Namespace) -> int:
    """``skmm index``: build a gallery index over one block of an encoded file.

    Parameters
    ----------
    args : argparse.Namespace
        ``encoded`` (a file or a folder of shards), ``output``, ``modality``,
        ``kind``, ``retriever``, ``device``, ``train_size``, ``max_memory``.

    Returns
    -------
    int
        The exit code (0).
    """
    import numpy as np

    from skmm.cli._shards import is_sharded

    if is_sharded(args.encoded):
        from skmm.cli._index_shards import index_shards

        return index_shards(args)
    with usage_on_bad_file(ENCODED_HINT):
        enc = read_encoded(args.encoded)
    blocks = enc.blocks
    name = _choose_block(blocks, args.modality)
    block = enc.features[blocks[name]["features"]]
    out = Path(args.output).expanduser()
    out.parent.mkdir(parents=True, exist_ok=True)

    retriever = None
    if args.retriever:
        retriever = load_retriever(args.retriever)
        vectors = retriever_embed(retriever, block, name)
    else:
        vectors = block.to_numpy(np.float32)
    vectors = np.asarray(vectors, dtype=np.float32)
    ok = _finite_rows(vectors, name, enc.path.name)
    index = _make_index(args.kind, int(ok.sum()), args.device)
    index.add(vectors[ok])
    index.save(out)
    display = enc.extras[ok].reset_index(drop=True)
    write_index_sidecars(
        args, out, enc.path, enc.meta, name, retriever, display, vectors.shape[1]
    )
    dropped = int((~ok).sum())
    say(
        f"indexed {int(ok.sum())} {name} vectors ({vectors.shape[1]}-d, "
        f"{args.kind}, {'retriever space' if retriever else 'encoder space'})"
        + (f"; {dropped} rows without that modality left out" if dropped else "")
        + f" -> {out}"
    )
    return 0


def write_index_sidecars(
    args: argparse.Namespace,
    out: Path,
    encoded: Path,
    enc_meta: dict,
    name: str,
    retriever: Any,
    display: Any,
    dim: int,
) -> None:
    """Write ``INDEX.skmm.json`` and the copies of the encoders and retriever."""
    files = {}
    encoders_file = enc_meta.get("encoders_file")
    if encoders_file and (encoded.parent / encoders_file).exists():
        target = sidecar_path(out, ENCODERS_SUFFIX)
        shutil.copyfile(encoded.parent / encoders_file, target)
        files["encoders"] = target.name
    if retriever is not None:
        target = sidecar_path(out, RETRIEVER_SUFFIX)
        shutil.copyfile(Path(args.retriever).expanduser(), target)
        files["retriever"] = target.name
    meta = {
        "skmm_index": _INDEX_FORMAT,
        "encoded": str(encoded.resolve()),
        "modality": name,
        "kind": args.kind,
        "space": "retriever" if retriever is not None else "encoder",
        "retriever_class": type(retriever).__name__ if retriever else None,
        "dim": int(dim),
        "n_items": len(display),
        "blocks": enc_meta["modalities"],
        "files": files,
        "columns": [str(c) for c in display.columns],
        "rows": json.loads(display.to_json(orient="values")),
    }
    sidecar_path(out).write_text(json.dumps(meta) + "\n")
