"""The files the commands hand each other, and how they are read back.

``encode`` writes the encoded table (``.parquet`` or ``.npz``) and, beside it,

- ``<output>.skmm.json``: per modality block, the input column, the encoder
  name, its settings and width, and the kept columns;
- ``<output>.encoders.joblib``: the fitted encoders, so that a query is
  encoded exactly as the gallery was (TF-IDF needs its fitted vocabulary).

``index`` writes the index (:meth:`skmm.retrieval.BaseIndex.save`) and, beside
it, ``<index>.skmm.json`` (the indexed modality, every block's encoder, the
row ids and kept columns to display), a copy of the fitted encoders and, with
``--retriever``, a copy of the retriever.  ``query`` reads those.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from skmm.cli._errors import usage, usage_on_bad_file
from skmm.cli._io import bad_file, existing_file, load_joblib, read_json, read_table

__all__ = [
    "ENCODED_HINT",
    "ENCODERS_SUFFIX",
    "INDEX_HINT",
    "RETRIEVER_SUFFIX",
    "ROW_COLUMN",
    "SIDECAR_SUFFIX",
    "Encoded",
    "describe_block",
    "load_retriever",
    "read_encoded",
    "resolve_modality",
    "retriever_embed",
    "sidecar_path",
]

SIDECAR_SUFFIX = ".skmm.json"
ENCODERS_SUFFIX = ".encoders.joblib"
RETRIEVER_SUFFIX = ".retriever.joblib"
ROW_COLUMN = "__row__"


ENCODED_HINT = (
    "pass the .parquet or .npz that `skmm encode` wrote, with its .skmm.json "
    "beside it (or encode again)"
)
INDEX_HINT = "build the index again with `skmm index ENCODED -o INDEX_FILE`"


def sidecar_path(path: str | os.PathLike, suffix: str = SIDECAR_SUFFIX) -> Path:
    """The file beside ``path`` that holds its metadata (``data.parquet.skmm.json``).

    Parameters
    ----------
    path : str or PathLike
    suffix : str, default=".skmm.json"

    Returns
    -------
    Path
    """
    p = Path(path)
    return p.with_name(p.name + suffix)


@dataclass
class Encoded:
    """An encoded file, read back: features, kept columns and metadata."""

    path: Path
    features: Any  # DataFrame of modality__feature columns
    extras: Any  # DataFrame: __row__ and the kept columns
    meta: dict

    @property
    def blocks(self) -> dict[str, dict]:
        return self.meta["modalities"]


def _blocks_from_columns(columns: Sequence[str]) -> dict[str, dict]:
    blocks: dict[str, dict] = {}
    for c in columns:
        prefix, sep, rest = str(c).partition("__")
        if sep and prefix and rest:
            block = blocks.setdefault(
                prefix,
                {"column": None, "encoder": None, "kind": prefix, "features": []},
            )
            block["features"].append(str(c))
    for block in blocks.values():
        block["width"] = len(block["features"])
    return blocks


def _read_shards(path: str | os.PathLike) -> tuple[Path, Any]:
    """A sharded ``encode`` output (a folder of shards) as one table."""
    import pandas as pd

    from skmm.cli._shards import iter_encoded_shards

    tables = [table for _, table in iter_encoded_shards(path)]
    return Path(path).expanduser(), pd.concat(tables, ignore_index=True)


def read_encoded(path: str | os.PathLike) -> Encoded:
    """Read an ``encode`` output (``.parquet``, ``.npz`` or a folder of
    shards, all read at once) and its sidecar.

    Parameters
    ----------
    path : str or PathLike

    Returns
    -------
    Encoded
        The features (float32), the kept columns and the sidecar's metadata
        (read from the column names when there is no sidecar).

    Raises
    ------
    InvalidFileError
        When the file or its sidecar cannot be read, or they do not match.
    CLIError
        When the path is missing or a folder, or the file holds no encoded
        blocks (usage errors).
    """
    import numpy as np

    if Path(path).expanduser().is_dir():
        p, df = _read_shards(path)
    else:
        p = existing_file(path, "encoded file")
        if p.suffix.lower() not in (".parquet", ".pq", ".npz"):
            raise usage(
                f"cannot read {p.name!r}: an encoded file is .parquet or .npz",
                "write one with `skmm encode INPUT --column ... -o encoded.parquet`",
            )
        df = read_table(p, formats=(".parquet", ".pq", ".npz"))
    meta_path = sidecar_path(p)
    if meta_path.exists():
        expected = f"the JSON `skmm encode` writes beside {p.name}"
        meta = read_json(meta_path, expected)
        blocks = meta.get("modalities")
        if not isinstance(blocks, dict) or not all(
            isinstance(b, dict) for b in blocks.values()
        ):
            raise bad_file(meta_path, "it has no 'modalities' table", expected=expected)
        for name, block in blocks.items():
            if not block.get("features"):
                prefix = f"{block.get('name', name)}__"
                block["features"] = [
                    str(c) for c in df.columns if str(c).startswith(prefix)
                ]
    else:
        meta = {"modalities": _blocks_from_columns([str(c) for c in df.columns])}
        blocks = meta["modalities"]
    if not blocks:
        raise usage(
            f"{p} holds no modality__feature columns",
            "pass a file written by `skmm encode`",
        )
    feature_cols = [c for b in blocks.values() for c in b["features"]]
    missing = [c for c in feature_cols if c not in df.columns]
    if missing:
        raise bad_file(
            p,
            f"the file lacks {len(missing)} feature column(s) that {meta_path.name} "
            f"lists (e.g. {', '.join(map(repr, missing[:3]))})",
            expected="the columns of the same `skmm encode` run as its sidecar "
            "(encode again)",
        )
    extra_cols = [c for c in df.columns if c not in set(feature_cols)]
    try:
        features = df[feature_cols].astype("float32")
    except (TypeError, ValueError) as exc:
        raise bad_file(
            p,
            f"a feature column is not numeric ({exc})",
            expected="numeric <block>__f<i> columns written by `skmm encode`",
        ) from exc
    extras = df[extra_cols].reset_index(drop=True)
    if ROW_COLUMN not in extras.columns:
        extras.insert(0, ROW_COLUMN, np.arange(len(df)))
    meta.setdefault("encoders_file", None)
    return Encoded(p, features.reset_index(drop=True), extras, meta)


def resolve_modality(blocks: Mapping[str, dict], wanted: str, what: str) -> str:
    """A block name from a block name, a kind (``image``) or a column name."""
    if wanted in blocks:
        return wanted
    for key in ("kind", "column"):
        hits = [n for n, b in blocks.items() if b.get(key) == wanted]
        if len(hits) == 1:
            return hits[0]
        if len(hits) > 1:
            raise usage(
                f"{what} {wanted!r} matches several blocks: {', '.join(hits)}",
                f"name one of them: --modality {hits[0]}",
            )
    raise usage(
        f"unknown modality {wanted!r}; the encoded file holds: "
        + ", ".join(describe_block(n, b) for n, b in blocks.items()),
        "pass one of those names with --modality",
    )


def describe_block(name: str, block: Mapping[str, Any]) -> str:
    """``name (encoder, width-d)`` for error messages."""
    enc = block.get("encoder")
    return f"{name} ({enc}, {block.get('width')}-d)" if enc else name


def load_retriever(path: str | os.PathLike) -> Any:
    """A fitted skmm retriever from a joblib file; a usage error otherwise."""
    p = existing_file(path, "retriever file")
    with usage_on_bad_file(
        "pass a file written with joblib.dump(fitted_retriever, path)"
    ):
        retriever = load_joblib(p, "a fitted skmm retriever saved with joblib.dump")
    if not callable(getattr(retriever, "embed", None)) or not hasattr(
        retriever, "modality_columns_"
    ):
        raise usage(
            f"{p} holds a {type(retriever).__name__}, not a fitted skmm retriever",
            "fit e.g. skmm.retrieval.CCARetriever on the encoded table and "
            "joblib.dump it",
        )
    return retriever


def retriever_embed(retriever: Any, block: Any, modality: str) -> Any:
    """``retriever.embed(block, modality=...)``; a usage error for a modality
    the retriever was not fitted on."""
    known = list(retriever.modality_columns_)
    if modality not in known:
        raise usage(
            f"the retriever ({type(retriever).__name__}) embeds the modalities "
            f"{', '.join(known)}, not {modality!r}",
            "fit the retriever with query=/target= naming the encoded blocks",
        )
    return retriever.embed(block, modality=modality)
