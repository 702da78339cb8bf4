"""``skmm index``: build a search index over one block of an encoded file."""

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

__all__ = ["INDEX_KINDS", "add_parser", "cmd_index"]

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

example
  skmm index products.parquet --modality image --retriever cca.joblib \\
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
    index.set_defaults(func=cmd_index)


def _make_index(kind: str, n: int, device: str | None) -> Any:
    from skmm.retrieval import ExactIndex, FaissIndex

    if kind == "exact":
        return ExactIndex(metric="cosine", device=device or "auto")
    faiss_kind = kind.split("-", 1)[1]
    params: dict[str, Any] = {"kind": faiss_kind, "metric": "cosine"}
    if faiss_kind == "ivf":
        params["nlist"] = max(1, min(1024, int(math.sqrt(n))))
    return FaissIndex(**params)


def cmd_index(args: argparse.Namespace) -> int:
    """``skmm index``: build a gallery index over one block of an encoded file.

    Parameters
    ----------
    args : argparse.Namespace
        ``encoded``, ``output``, ``modality``, ``kind``, ``retriever``,
        ``device``.

    Returns
    -------
    int
        The exit code (0).
    """
    import numpy as np

    with usage_on_bad_file(ENCODED_HINT):
        enc = read_encoded(args.encoded)
    blocks = enc.blocks
    if args.modality is None:
        if len(blocks) > 1:
            raise usage(
                "the encoded file holds several modalities: "
                + ", ".join(describe_block(n, b) for n, b in blocks.items()),
                f"choose the gallery with --modality {next(iter(blocks))}",
            )
        name = next(iter(blocks))
    else:
        name = resolve_modality(blocks, args.modality, "--modality")
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
    ok = np.isfinite(vectors).all(axis=1)
    if not ok.any():
        raise CLIError(
            f"no row of {enc.path.name} holds the {name!r} modality (all NaN)",
            "check the encoded column: missing cells give NaN rows",
        )
    index = _make_index(args.kind, int(ok.sum()), args.device)
    index.add(vectors[ok])
    index.save(out)

    files = {}
    encoders_file = enc.meta.get("encoders_file")
    if encoders_file and (enc.path.parent / encoders_file).exists():
        target = sidecar_path(out, ENCODERS_SUFFIX)
        shutil.copyfile(enc.path.parent / encoders_file, target)
        files["encoders"] = target.name
    if retriever is not None:
        target = sidecar_path(out, RETRIEVER_SUFFIX)
        shutil.copyfile(Path(args.retriever).expanduser(), target)
        files["retriever"] = target.name
    display = enc.extras[ok].reset_index(drop=True)
    meta = {
        "skmm_index": _INDEX_FORMAT,
        "encoded": str(enc.path.resolve()),
        "modality": name,
        "kind": args.kind,
        "space": "retriever" if retriever is not None else "encoder",
        "retriever_class": type(retriever).__name__ if retriever else None,
        "dim": int(vectors.shape[1]),
        "n_items": int(ok.sum()),
        "blocks": blocks,
        "files": files,
        "columns": [str(c) for c in display.columns],
        "rows": json.loads(display.to_json(orient="values")),
    }
    sidecar_path(out).write_text(json.dumps(meta) + "\n")
    dropped = int((~ok).sum())
    say(
        f"indexed {int(ok.sum())} {name} vectors ({vectors.shape[1]}-d, "
        f"{args.kind}, {'retriever space' if retriever else 'encoder space'})"
        + (f"; {dropped} rows without that modality left out" if dropped else "")
        + f" -> {out}"
    )
    return 0
