"""Sharded encoded tables: ``skmm encode --workers/--scheduler`` output.

A sharded output is a folder of Parquet files ``part-00000.parquet``,
``part-00001.parquet``, ... (one per row partition, in row order), each with
the columns of a single-file output (``__row__``, the kept columns, then the
``<block>__f<i>`` features).  pandas, pyarrow and dask.dataframe read the
folder as one dataset (``pd.read_parquet(folder)``).  The sidecar is the
single-file one, beside the folder (``FOLDER.skmm.json`` and
``FOLDER.encoders.joblib``), with a ``shards`` list (file and rows per
shard) added.

Readers (``skmm index``): :func:`is_sharded`, :func:`shard_files` and
:func:`iter_encoded_shards`, which reads one shard at a time.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from sklearn.base import BaseEstimator, TransformerMixin

from skmm.cli._errors import usage

__all__ = [
    "SHARD_GLOB",
    "BlocksTransformer",
    "is_sharded",
    "iter_encoded_shards",
    "prepare_shard_folder",
    "shard_files",
    "shard_name",
    "write_shard",
]

SHARD_GLOB = "part-*.parquet"


def shard_name(number: int) -> str:
    """``part-00042.parquet`` for shard 42."""
    return f"part-{number:05d}.parquet"


def is_sharded(path: str | os.PathLike) -> bool:
    """Whether ``path`` is a folder holding ``part-*.parquet`` shards."""
    p = Path(path).expanduser()
    return p.is_dir() and any(p.glob(SHARD_GLOB))


def shard_files(path: str | os.PathLike) -> list[Path]:
    """The shards of a sharded output, in row order; a usage error when none."""
    p = Path(path).expanduser()
    files = sorted(p.glob(SHARD_GLOB)) if p.is_dir() else []
    if not files:
        raise usage(
            f"{os.fspath(path)} holds no {SHARD_GLOB} shards",
            "pass the folder `skmm encode --workers N -o FOLDER` wrote",
        )
    return files


def prepare_shard_folder(folder: Path) -> None:
    """Create ``folder`` for shards, removing the shards of an earlier run;
    a usage error when it holds anything else (or is a file)."""
    if folder.exists() and not folder.is_dir():
        raise usage(
            f"cannot write shards into {folder}: it is a file",
            "with --workers/--scheduler, -o names a folder (e.g. -o encoded/)",
        )
    folder.mkdir(parents=True, exist_ok=True)
    others = [
        f.name
        for f in folder.iterdir()
        if not f.match(SHARD_GLOB) and not f.name.startswith(".")
    ]
    if others:
        raise usage(
            f"{folder} holds other files than shards ({', '.join(sorted(others)[:3])})",
            "pass a new or empty folder with -o",
        )
    for f in folder.glob(SHARD_GLOB):
        f.unlink()


def write_shard(folder: Path, number: int, table: Any) -> Path:
    """Write one shard atomically (a hidden temporary file, then a rename,
    so a reader never sees half a shard)."""
    path = folder / shard_name(number)
    tmp = folder / f".{path.name}.tmp-{os.getpid()}"
    table.to_parquet(tmp, index=False)
    os.replace(tmp, path)
    return path


class BlocksTransformer(TransformerMixin, BaseEstimator):
    """Encoders, one per block, fitted one by one, as one picklable transformer.

    ``transform(df)`` gives the columns ``make_modality_encoder`` gives
    (``<block>__f<i>``), but ``fit`` fits each encoder on its column without
    encoding it (a ColumnTransformer's ``fit`` would encode the whole table
    in the client before the cluster sees a row).
    """

    def __init__(self, encoders: Mapping[str, Any], columns: Mapping[str, str]):
        self.encoders = encoders
        self.columns = columns

    def fit(self, df: Any, y: Any = None) -> BlocksTransformer:
        self.encoders_ = {
            name: enc.fit(df[self.columns[name]]) for name, enc in self.encoders.items()
        }
        return self

    @property
    def feature_names(self) -> list[str]:
        return [
            f"{name}__{f}"
            for name, enc in self.encoders_.items()
            for f in enc.get_feature_names_out()
        ]

    def transform(self, df: Any) -> Any:
        import numpy as np
        import pandas as pd

        parts = [
            np.asarray(enc.transform(df[self.columns[name]]), dtype=np.float32)
            for name, enc in self.encoders_.items()
        ]
        return pd.DataFrame(
            np.hstack(parts), columns=self.feature_names, index=df.index
        )


def iter_encoded_shards(
    path: str | os.PathLike, columns: Sequence[str] | None = None
) -> Iterator[tuple[Path, Any]]:
    """Read a sharded output one shard at a time.

    Parameters
    ----------
    path : str or PathLike
        The folder.
    columns : sequence of str, optional
        Read only these columns (e.g. ``__row__`` and one block's features).

    Yields
    ------
    (Path, DataFrame)
        Each shard's file and its table, in row order.
    """
    import pandas as pd

    from skmm.cli._errors import usage_on_bad_file
    from skmm.cli._io import bad_file

    for f in shard_files(path):
        with usage_on_bad_file("encode again (a shard is damaged or missing)"):
            try:
                table = pd.read_parquet(f, columns=list(columns) if columns else None)
            except Exception as exc:
                raise bad_file(
                    f,
                    f"cannot read the shard ({type(exc).__name__}: {exc})",
                    expected="a Parquet shard written by `skmm encode --workers`",
                ) from exc
        yield f, table
