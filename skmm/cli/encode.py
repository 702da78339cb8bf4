"""``skmm encode``: embed the text/image/audio columns of a table."""

from __future__ import annotations

import argparse
import json
import re
import textwrap
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from skmm.cli._args import add_command, paragraph, positive_int
from skmm.cli._column_spec import ColumnSpec, make_encoder, parse_column_spec
from skmm.cli._errors import usage, usage_on_bad_file
from skmm.cli._files import ENCODERS_SUFFIX, ROW_COLUMN, sidecar_path
from skmm.cli._io import existing_file, jsonable, need_pyarrow, read_table, say

__all__ = ["add_parser", "cmd_encode"]

_ENCODED_FORMAT = 1
_PATH_KINDS = ("image", "audio", "video")

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
  with --workers/--scheduler: OUTPUT is a folder of Parquet shards
  part-00000.parquet, ... (one per --partition-size rows, in row order; read
  it as one table with pandas.read_parquet(OUTPUT)); the sidecars go beside
  the folder (OUTPUT.skmm.json, OUTPUT.encoders.joblib).

example
  skmm encode products.csv --column title=minilm --column photo=mobilenet_v2 \\
      --keep label -o products.parquet
  skmm encode products.csv --column photo=mobilenet_v2 --workers 4 \\
      --cache /shared/skmm-cache -o products-encoded/
"""


def _encode_epilog() -> str:
    from skmm.registry import encoders

    names = textwrap.fill(
        ", ".join(encoders.names()) + ".",
        width=76,
        initial_indent="    ",
        subsequent_indent="    ",
    )
    return _ENCODE_EPILOG.format(encoders=names)


def add_parser(sub: Any) -> None:
    """Add ``encode`` to the subcommands ``sub``."""
    encode = add_command(
        sub,
        "encode",
        help="embed the text/image/audio columns of a CSV or Parquet table",
        description=paragraph(
            "Embed columns of a table, one encoder per column, and write the "
            "features (one <block>__f<i> column per dimension) to .parquet or "
            ".npz.  Embeddings are cached on disk, so a second run is fast."
        ),
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
        type=positive_int,
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
    where = encode.add_mutually_exclusive_group()
    where.add_argument(
        "--workers",
        type=positive_int,
        metavar="N",
        help="encode on a local Dask cluster of N worker processes, started "
        "and closed by the command (pip install 'skmm[dask]'); writes shards",
    )
    where.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="encode on a running Dask cluster (e.g. tcp://10.0.0.5:8786); "
        "input paths, the output folder and --cache must be reachable from "
        "every worker; writes shards",
    )
    encode.add_argument(
        "--partition-size",
        type=positive_int,
        default=2048,
        metavar="N",
        help="rows per partition and per shard with --workers/--scheduler "
        "(default: 2048)",
    )
    encode.set_defaults(func=cmd_encode)


def _block_names(specs: Sequence[ColumnSpec], kinds: Sequence[str]) -> list[str]:
    """Name each block after its modality, or after its column when several
    columns share one (``title``, ``body``), or ``column_encoder`` after that."""
    counts: dict[str, int] = {}
    for k in kinds:
        counts[k] = counts.get(k, 0) + 1
    names = []
    for spec, kind in zip(specs, kinds):
        generic = kind in ("", "generic")
        names.append(spec.column if generic or counts[kind] > 1 else kind)
    if len(set(names)) < len(names):
        names = [
            n if names.count(n) == 1 else f"{s.column}_{s.encoder}"
            for n, s in zip(names, specs)
        ]
    clean = []
    for n in names:
        n = re.sub(r"_{2,}", "_", re.sub(r"[^0-9A-Za-z_]", "_", n)).strip("_")
        clean.append(n or "block")
    if len(set(clean)) < len(clean):
        raise usage(
            f"two --column arguments give the same block name ({clean})",
            "encode a column with one encoder per run, or rename a column",
        )
    return clean


def _absolute_paths(values: Any, folder: Path) -> Any:
    """Relative file paths in a column, resolved against ``folder``."""

    def fix(cell: Any) -> Any:
        if isinstance(cell, str) and cell and "://" not in cell:
            p = Path(cell).expanduser()
            if not p.is_absolute():
                return str(folder / p)
        return cell

    return values.map(fix)


def _cache_setting(args: argparse.Namespace) -> Any:
    if getattr(args, "no_cache", False):
        return None
    if getattr(args, "cache", None):
        return str(Path(args.cache).expanduser().resolve())
    return True


def _check_columns(df: Any, wanted: Sequence[str], flag: str, path: Path) -> None:
    available = [str(c) for c in df.columns]
    for c in wanted:
        if c not in available:
            shown = ", ".join(available[:30]) + (" ..." if len(available) > 30 else "")
            raise usage(
                f"unknown column {c!r} in {flag}: {path.name} has the columns {shown}",
                "column names are case-sensitive",
            )


def cmd_encode(args: argparse.Namespace) -> int:
    """``skmm encode``: embed a table's columns and write them to a file.

    Parameters
    ----------
    args : argparse.Namespace
        ``input``, ``columns`` (``COLUMN=ENCODER[:SETTINGS]`` strings),
        ``output``, ``keep``, ``cache``, ``no_cache``, ``batch_size``,
        ``device``, ``quiet``; ``workers`` or ``scheduler`` (encode on Dask
        and write Parquet shards into the folder ``output``) and
        ``partition_size``.

    Returns
    -------
    int
        The exit code (0).
    """
    import joblib
    import numpy as np

    from skmm.cache import cache_stats, default_cache_dir, reset_cache_stats
    from skmm.compose import make_modality_encoder

    out = Path(args.output).expanduser()
    out_kind = out.suffix.lower()
    sharded = bool(getattr(args, "workers", None) or getattr(args, "scheduler", None))
    if sharded and out_kind == ".npz":
        raise usage(
            f"cannot write {out.name!r}: --workers/--scheduler write Parquet "
            "shards into a folder",
            "e.g. -o encoded/",
        )
    if sharded:
        out_kind = ".parquet"
    elif out_kind not in (".parquet", ".pq", ".npz"):
        raise usage(
            f"cannot write {out.name!r}: OUTPUT must end in .parquet or .npz",
            "e.g. -o encoded.parquet",
        )
    specs = [parse_column_spec(s) for s in args.columns]
    path = existing_file(args.input, "input file")
    if out_kind in (".parquet", ".pq"):
        need_pyarrow()
    with usage_on_bad_file("fix the file (or export it again), then rerun"):
        df = read_table(path)
    df.columns = [str(c) for c in df.columns]
    _check_columns(df, [s.column for s in specs], "--column", path)
    keep = list(dict.fromkeys(args.keep or []))
    _check_columns(df, keep, "--keep", path)
    if ROW_COLUMN in keep:
        keep.remove(ROW_COLUMN)
    if len(df) == 0:
        raise usage(f"{path} has no rows", "pass a table with at least one row")

    cache = _cache_setting(args)
    built = [
        make_encoder(
            s,
            cache=cache,
            verbose=0 if args.quiet or sharded else 1,
            batch_size=args.batch_size,
            device=args.device,
        )
        for s in specs
    ]
    kinds = [str(getattr(enc, "_modality", "generic")) for enc, _ in built]
    names = _block_names(specs, kinds)
    # relative file paths start from the input's folder, not the working one
    folder = path.resolve().parent
    data = df[list(dict.fromkeys(s.column for s in specs))].copy()
    for s, kind in zip(specs, kinds):
        if kind in _PATH_KINDS:
            data[s.column] = _absolute_paths(df[s.column], folder)
    kept = df[keep].reset_index(drop=True)
    if sharded:
        fitted, feature_names, shards, seconds, stats = _encode_sharded(
            args, data.reset_index(drop=True), kept, names, specs, built, out
        )
    else:
        transformer = make_modality_encoder(
            columns={name: s.column for name, s in zip(names, specs)},
            **{name: enc for name, (enc, _) in zip(names, built)},
        )
        reset_cache_stats()
        t0 = time.perf_counter()
        features = transformer.fit_transform(data)
        seconds = time.perf_counter() - t0
        stats = cache_stats()
        features = features.astype(np.float32).reset_index(drop=True)
        fitted = {name: transformer.named_transformers_[name] for name in names}
        feature_names = list(features.columns)

    blocks: dict[str, dict] = {}
    for s, name, kind, (enc, settings) in zip(specs, names, kinds, built):
        feats = [c for c in feature_names if c.startswith(f"{name}__")]
        blocks[name] = {
            "name": name,
            "column": s.column,
            "kind": kind,
            "encoder": s.encoder,
            "settings": jsonable(settings),
            "params": jsonable(fitted[name].get_params(deep=False)),
            "class": f"{type(enc).__module__}.{type(enc).__qualname__}",
            "width": len(feats),
            "features": feats,
        }
    rows = np.arange(len(df), dtype=np.int64)
    out.parent.mkdir(parents=True, exist_ok=True)
    if sharded:
        pass  # the shards are written
    elif out_kind == ".npz":
        arrays = {
            "X": features.to_numpy(np.float32),
            "feature_names": np.asarray(list(features.columns), dtype=str),
            ROW_COLUMN: rows,
        }
        for c in keep:
            if c in arrays:
                raise usage(
                    f"--keep {c!r}: the name is taken in an .npz output",
                    "write a .parquet output, or rename the column",
                )
            arrays[c] = _npz_column(kept[c])
        with open(out, "wb") as fh:
            np.savez(fh, **arrays)
    else:
        table = kept.copy()
        table.insert(0, ROW_COLUMN, rows)
        table = table.join(features)
        table.to_parquet(out, index=False)
    encoders_file = sidecar_path(out, ENCODERS_SUFFIX)
    joblib.dump(fitted, encoders_file)
    import skmm

    meta = {
        "skmm_encoded": _ENCODED_FORMAT,
        "skmm_version": skmm.__version__,
        "input": str(path.resolve()),
        "n_rows": len(df),
        "modalities": blocks,
        "keep": keep,
        "encoders_file": encoders_file.name,
        "seconds": round(seconds, 3),
    }
    if sharded:
        meta["shards"] = shards
        meta["partition_size"] = args.partition_size
    sidecar_path(out).write_text(json.dumps(meta, indent=2) + "\n")

    widths = ", ".join(
        f"{n} {b['width']}-d ({b['encoder']})" for n, b in blocks.items()
    )
    if cache is None:
        cache_text = "cache off"
    else:
        where = cache if isinstance(cache, str) else str(default_cache_dir())
        cache_text = f"cache {stats['hits']} hits, {stats['misses']} misses ({where})"
    target = f"{len(shards)} shards in {out}" if sharded else str(out)
    say(
        f"encoded {len(df)} rows in {seconds:.2f} s: {widths}; {cache_text} -> {target}"
    )
    return 0


def _client(args: argparse.Namespace) -> tuple[Any, Any]:
    """A Dask client and the LocalCluster of ``--workers`` processes it
    started (``None`` for ``--scheduler``: the user's cluster)."""
    from skmm.utils._imports import import_optional

    distributed = import_optional(
        "dask.distributed", extra="dask", package="distributed"
    )
    if args.scheduler:
        try:
            return distributed.Client(args.scheduler, timeout="20s"), None
        except (OSError, TimeoutError, ValueError) as exc:
            raise usage(
                f"cannot reach the Dask scheduler {args.scheduler!r} ({exc})",
                "start one with `dask scheduler` and workers with "
                "`dask worker ADDRESS`, then pass its tcp://HOST:PORT",
            ) from exc
    cluster = distributed.LocalCluster(
        n_workers=args.workers,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
    )
    return distributed.Client(cluster), cluster


def _encode_sharded(
    args: argparse.Namespace,
    data: Any,
    kept: Any,
    names: Sequence[str],
    specs: Sequence[ColumnSpec],
    built: Sequence[tuple[Any, dict]],
    out: Path,
) -> tuple[dict, list[str], list[dict], float, dict]:
    """Encode on a Dask cluster and write one Parquet shard per partition,
    as partitions finish (the client never holds the whole output)."""
    import numpy as np

    from skmm.cache import cache_stats, reset_cache_stats
    from skmm.cli._shards import (
        BlocksTransformer,
        prepare_shard_folder,
        shard_name,
        write_shard,
    )
    from skmm.compose import encode_partitions

    need_pyarrow()
    prepare_shard_folder(out)
    blocks = BlocksTransformer(
        {name: enc for name, (enc, _) in zip(names, built)},
        {name: s.column for name, s in zip(names, specs)},
    )
    client, cluster = _client(args)
    try:
        client.run(reset_cache_stats)
        t0 = time.perf_counter()
        blocks.fit(data)
        size = args.partition_size
        shards: dict[int, dict] = {}
        for start, features in encode_partitions(
            data,
            blocks,
            client=client,
            partition_size=size,
            verbose=0 if args.quiet else 1,
        ):
            stop = start + len(features)
            table = kept.iloc[start:stop].reset_index(drop=True)
            table.insert(0, ROW_COLUMN, np.arange(start, stop, dtype=np.int64))
            table = table.join(features.astype(np.float32).reset_index(drop=True))
            write_shard(out, start // size, table)
            shards[start] = {"file": shard_name(start // size), "rows": stop - start}
        seconds = time.perf_counter() - t0
        per_worker = client.run(cache_stats).values()
        stats = {k: sum(w[k] for w in per_worker) for k in ("hits", "misses")}
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    return (
        blocks.encoders_,
        blocks.feature_names,
        [shards[s] for s in sorted(shards)],
        seconds,
        stats,
    )


def _npz_column(series: Any) -> Any:
    """A kept column as an array ``np.load`` reads without pickle."""
    import numpy as np

    arr = series.to_numpy()
    if arr.dtype.kind in "biufcmMU":
        return arr
    return np.asarray(["" if v is None or v != v else str(v) for v in arr], dtype=str)
