"""``skmm index FOLDER``: index a folder of shards one shard at a time.

The folder is what ``skmm encode --workers`` writes (``part-00000.parquet``,
... with ``FOLDER.skmm.json`` beside it).  Every shard is checked from its
Parquet footer first (readable, the same columns as the first), so a bad
folder fails before any work; then
:func:`skmm.retrieval.build_index_from_shards` trains (IVF) on a sample and
adds the shards in turn.  Memory holds the index, one shard, the training
sample and the rows ``skmm query`` displays.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from skmm.cli._errors import CLIError, usage, usage_on_bad_file
from skmm.cli._files import (
    ENCODED_HINT,
    ROW_COLUMN,
    _blocks_from_columns,
    load_retriever,
    retriever_embed,
    sidecar_path,
)
from skmm.cli._io import bad_file, read_json, say
from skmm.cli._shards import shard_files

__all__ = ["index_shards", "peak_rss"]

_EXPECTED = "a Parquet shard written by `skmm encode --workers`"


def peak_rss() -> int | None:
    """This process's peak resident memory in bytes (None where unknown)."""
    try:
        import resource
    except ImportError:  # pragma: no cover - Windows
        return None
    import sys

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(peak if sys.platform == "darwin" else peak * 1024)


def _unreadable(f: Path, exc: Exception) -> Exception:
    problem = f"cannot read the shard ({type(exc).__name__}: {exc})"
    return bad_file(f, problem, expected=_EXPECTED)


def _scan(files: list[Path]) -> tuple[list[int], list[list[str]]]:
    """Rows and column names of every shard, from the Parquet footers."""
    from skmm.cli._io import need_pyarrow

    need_pyarrow()
    import pyarrow.parquet as pq

    rows, names = [], []
    for f in files:
        try:
            pf = pq.ParquetFile(f)
            rows.append(int(pf.metadata.num_rows))
            names.append([str(c) for c in pf.schema_arrow.names])
        except Exception as exc:  # ArrowInvalid, OSError: empty, cut, not Parquet
            raise _unreadable(f, exc) from exc
    return rows, names


def _shard_meta(folder: Path, columns: list[str]) -> dict:
    meta_path = sidecar_path(folder)
    if not meta_path.exists():
        return {"modalities": _blocks_from_columns(columns), "encoders_file": None}
    expected = f"the JSON `skmm encode` writes beside {folder.name}"
    meta = read_json(meta_path, expected)
    blocks = meta.get("modalities")
    if not isinstance(blocks, dict) or not all(
        isinstance(b, dict) and b.get("features") for b in blocks.values()
    ):
        raise bad_file(meta_path, "it has no 'modalities' table", expected=expected)
    meta.setdefault("encoders_file", None)
    return meta


def _check_columns(files: list[Path], names: list[list[str]], features: list) -> None:
    """Every shard holds the block's columns and as many features as the first."""
    first = {c for c in names[0] if "__" in c and c != ROW_COLUMN}
    for f, cols in zip(files, names):
        missing = [c for c in features if c not in cols]
        mine = {c for c in cols if "__" in c and c != ROW_COLUMN}
        if missing or mine != first:
            detail = (
                f"it lacks {len(missing)} of the block's feature columns (e.g. "
                f"{', '.join(map(repr, missing[:3]))})"
                if missing
                else f"its {len(mine)} feature columns differ from the "
                f"{len(first)} of {files[0].name}"
            )
            raise bad_file(
                f,
                detail + " (mixed widths)",
                expected="shards of one `skmm encode` run",
            )


def _read_part(f: Path, columns: list[str]) -> Any:
    import pandas as pd

    try:
        return pd.read_parquet(f, columns=columns)
    except Exception as exc:
        raise bad_file(
            f,
            f"cannot read the shard ({type(exc).__name__}: {exc})",
            expected=_EXPECTED,
        ) from exc


def index_shards(args: argparse.Namespace) -> int:
    """Build the index of ``skmm index`` over a folder of shards.

    Parameters
    ----------
    args : argparse.Namespace
        As :func:`skmm.cli.index.cmd_index`.

    Returns
    -------
    int
        The exit code (0).
    """
    import time

    import numpy as np
    import pandas as pd

    from skmm.cli.index import _choose_block, _make_index, write_index_sidecars
    from skmm.retrieval import build_index_from_shards, estimate_build_memory

    folder = Path(args.encoded).expanduser()
    files = shard_files(folder)
    with usage_on_bad_file(ENCODED_HINT):
        rows, names = _scan(files)
        meta = _shard_meta(folder, names[0])
    blocks = meta["modalities"]
    name = _choose_block(blocks, args.modality)
    features = list(blocks[name]["features"])
    with usage_on_bad_file(ENCODED_HINT):
        _check_columns(files, names, features)
    every_feature = {c for b in blocks.values() for c in b["features"]}
    extras = [c for c in names[0] if c not in every_feature]
    retriever = load_retriever(args.retriever) if args.retriever else None
    n = sum(rows)
    index = _make_index(args.kind, n, args.device)
    kind = getattr(index, "kind", "exact")
    train = min(args.train_size, n) if kind == "ivf" else 0
    shown: dict[int, Any] = {}
    bound: list[int] = []
    starts = np.cumsum([0, *rows])

    def loader(i: int, f: Path) -> Any:
        def load() -> Any:
            with usage_on_bad_file(ENCODED_HINT):
                df = _read_part(f, extras + features)
            block = df[features].astype("float32")
            vec = retriever_embed(retriever, block, name) if retriever else block
            vec = np.asarray(vec, dtype=np.float32)
            if not bound:
                bound.append(
                    estimate_build_memory(index, n, vec.shape[1], max(rows), train)
                )
                if args.max_memory is not None and bound[0] > args.max_memory:
                    raise usage(
                        f"indexing {n} vectors ({vec.shape[1]}-d, {args.kind}) needs "
                        f"about {bound[0] / 2**20:.0f} MiB, more than --max-memory "
                        f"{args.max_memory / 2**20:.0f} MiB",
                        "raise --max-memory, lower --train-size, or use faiss-ivf",
                    )
            ok = np.isfinite(vec).all(axis=1)
            shown_rows = df[extras].reset_index(drop=True)
            if ROW_COLUMN not in shown_rows.columns:
                shown_rows.insert(0, ROW_COLUMN, np.arange(starts[i], starts[i + 1]))
            shown[i] = shown_rows[ok]
            return vec[ok]

        return load

    t0 = time.perf_counter()
    try:
        build_index_from_shards(
            [loader(i, f) for i, f in enumerate(files)],
            index,
            train_size=args.train_size,
        )
    except ValueError as exc:
        if "hold no rows" not in str(exc):
            raise
        raise CLIError(
            f"no row of {folder.name} holds the {name!r} modality (all NaN)",
            "check the encoded column: missing cells give NaN rows",
        ) from exc
    seconds = time.perf_counter() - t0
    out = Path(args.output).expanduser()
    out.parent.mkdir(parents=True, exist_ok=True)
    index.save(out)
    display = pd.concat([shown[i] for i in range(len(files))], ignore_index=True)
    write_index_sidecars(args, out, folder, meta, name, retriever, display, index.dim)
    dropped = n - len(index)
    peak = peak_rss()
    say(
        f"indexed {len(index)} {name} vectors ({index.dim}-d, {args.kind}, "
        f"{'retriever space' if retriever else 'encoder space'}) from "
        f"{len(files)} shards in {seconds:.1f} s"
        + (f"; {dropped} rows without that modality left out" if dropped else "")
        + f"; memory bound {bound[0] / 2**20:.0f} MiB"
        + (f", peak RSS {peak / 2**20:.0f} MiB" if peak else "")
        + f" -> {out}"
    )
    return 0
