"""What the ``skmm`` subcommands ``encode``, ``index``, ``query`` and ``search`` do.

:mod:`skmm.cli` holds the parser and the dispatch; this module holds the work.
Heavy libraries (pandas, torch, optuna) are imported inside the commands, so
``skmm --help`` stays fast.

Files the commands share
------------------------
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

import argparse
import ast
import contextlib
import inspect
import json
import math
import os
import re
import shutil
import sys
import time
import zipfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from skmm.exceptions import InvalidFileError

__all__ = [
    "EXIT_RUNTIME",
    "EXIT_USAGE",
    "CLIError",
    "ColumnSpec",
    "cmd_encode",
    "cmd_index",
    "cmd_query",
    "cmd_search",
    "parse_column_spec",
]

EXIT_USAGE = 2
EXIT_RUNTIME = 1

SIDECAR_SUFFIX = ".skmm.json"
ENCODERS_SUFFIX = ".encoders.joblib"
RETRIEVER_SUFFIX = ".retriever.joblib"
ROW_COLUMN = "__row__"
INDEX_KINDS = ("exact", "faiss-flat", "faiss-ivf", "faiss-hnsw")
_ENCODED_FORMAT = 1
_INDEX_FORMAT = 1
_PATH_KINDS = ("image", "audio", "video")


class CLIError(Exception):
    """An error the command line reports as one line and a hint.

    Parameters
    ----------
    message : str
        What went wrong (printed after ``skmm: error:``).
    hint : str, optional
        What to do about it (printed after ``hint:``).
    exit_code : int, default=1
        ``2`` (:data:`EXIT_USAGE`) for a wrong command line, input or
        configuration; ``1`` (:data:`EXIT_RUNTIME`) for a failure while
        running.
    """

    def __init__(
        self, message: str, hint: str | None = None, *, exit_code: int = EXIT_RUNTIME
    ) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.exit_code = exit_code


def _usage(message: str, hint: str | None = None) -> CLIError:
    return CLIError(message, hint, exit_code=EXIT_USAGE)


def _say(*parts: Any) -> None:
    print(*parts, flush=True)


# --------------------------------------------------------------------------
# --column specs
# --------------------------------------------------------------------------


@dataclass
class ColumnSpec:
    """One ``--column COLUMN=ENCODER[:SETTINGS]`` argument, parsed.

    Attributes
    ----------
    column : str
        The input column.
    encoder : str
        A name registered in :data:`skmm.registry.encoders`.
    settings : dict
        Constructor settings (``KEY=VALUE`` pairs).
    positional : object or None
        A bare first setting (``text:PATH``): the encoder's first positional
        parameter (the model for pretrained encoders).
    has_positional : bool
        Whether ``positional`` was given.
    """

    column: str
    encoder: str
    settings: dict = field(default_factory=dict)
    positional: Any = None
    has_positional: bool = False


def _split_top_level(text: str, sep: str = ",") -> list[str]:
    """Split on ``sep`` outside brackets and quotes (``size=(8,8),bins=4``)."""
    parts, depth, quote, start = [], 0, "", 0
    for i, ch in enumerate(text):
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == sep and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return [p.strip() for p in parts]


def parse_value(text: str) -> Any:
    """A setting's value: a Python literal when it reads as one, else a string.

    Parameters
    ----------
    text : str

    Returns
    -------
    object

    Examples
    --------
    >>> parse_value("8"), parse_value("0.5"), parse_value("true")
    (8, 0.5, True)
    >>> parse_value("none") is None, parse_value("(1, 2)"), parse_value("minilm")
    (True, (1, 2), 'minilm')
    """
    lowered = text.strip().lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered in ("none", "null"):
        return None
    try:
        return ast.literal_eval(text.strip())
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return text.strip()


def parse_column_spec(spec: str) -> ColumnSpec:
    """Parse ``COLUMN=ENCODER[:SETTINGS]``.

    ``SETTINGS`` are comma-separated ``KEY=VALUE`` pairs (values read as
    Python literals when they are: ``8``, ``0.5``, ``true``, ``(1,2)``;
    otherwise as strings).  The first setting may be a bare value, which
    fills the encoder's first positional parameter: ``caption=text:PATH``
    is ``caption=text:model=PATH``.

    Parameters
    ----------
    spec : str

    Returns
    -------
    ColumnSpec

    Raises
    ------
    CLIError
        When ``spec`` is malformed (a usage error).

    Examples
    --------
    >>> parse_column_spec("caption=tfidf:n_components=8,ngram_range=(1,2)")
    ... # doctest: +NORMALIZE_WHITESPACE
    ColumnSpec(column='caption', encoder='tfidf',
               settings={'n_components': 8, 'ngram_range': (1, 2)},
               positional=None, has_positional=False)
    >>> parse_column_spec("caption=text:models/tiny").positional
    'models/tiny'
    """
    column, eq, rest = spec.partition("=")
    column = column.strip()
    encoder, _, settings_text = rest.partition(":")
    encoder = encoder.strip()
    example = "e.g. --column caption=tfidf or --column photo=pixels:size=8"
    if not eq or not column or not encoder:
        raise _usage(
            f"--column {spec!r} is not COLUMN=ENCODER[:KEY=VALUE,...]", example
        )
    out = ColumnSpec(column, encoder)
    if not settings_text.strip():
        return out
    for j, item in enumerate(_split_top_level(settings_text)):
        if not item:
            continue
        key, eq, value = item.partition("=")
        if not eq or not key.strip().isidentifier():
            if j == 0:
                out.positional = parse_value(item)
                out.has_positional = True
                if isinstance(out.positional, str):  # a path keeps its spelling
                    out.positional = item
                continue
            raise _usage(
                f"--column {spec!r}: setting {item!r} is not KEY=VALUE",
                "separate settings with commas: photo=pixels:size=8,grayscale=true",
            )
        out.settings[key.strip()] = parse_value(value)
    return out


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        if isinstance(value, float) and not math.isfinite(value):
            return None
        return value
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    item = getattr(value, "item", None)  # numpy scalars
    if callable(item):
        try:
            return _jsonable(item())
        except (TypeError, ValueError):
            pass
    return repr(value)


def _from_json_settings(settings: Mapping[str, Any]) -> dict:
    # JSON turned tuples (ngram_range, size) into lists
    return {k: tuple(v) if isinstance(v, list) else v for k, v in settings.items()}


# --------------------------------------------------------------------------
# files
# --------------------------------------------------------------------------


def _existing_file(path: str | os.PathLike, what: str) -> Path:
    p = Path(path).expanduser()
    if not p.exists():
        raise _usage(
            f"{what} not found: {os.fspath(path)}",
            f"check the path (relative paths start from {Path.cwd()})",
        )
    if p.is_dir():
        raise _usage(
            f"{what} is a folder, not a file: {os.fspath(path)}",
            "pass the file inside it",
        )
    return p


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


def _need_pyarrow() -> None:
    from skmm.utils._imports import import_optional

    import_optional("pyarrow")


# what each readable format is, for "expected ..." in error messages
_FORMATS = {
    ".csv": "a CSV table (a header row, then rows of comma-separated fields)",
    ".tsv": "a TSV table (a header row, then rows of tab-separated fields)",
    ".parquet": "a Parquet file (e.g. written by DataFrame.to_parquet)",
    ".pq": "a Parquet file (e.g. written by DataFrame.to_parquet)",
    ".npz": "an .npz archive written by `skmm encode` (arrays X, feature_names)",
}
_TABLE_INPUTS = (".csv", ".tsv", ".parquet", ".pq")
_LINE_RE = re.compile(r"\b(line|row) (\d+)")


def bad_file(
    path: str | os.PathLike,
    problem: str,
    *,
    line: int | None = None,
    expected: str | None = None,
) -> InvalidFileError:
    """An :class:`~skmm.exceptions.InvalidFileError` with the CLI's wording.

    Parameters
    ----------
    path : str or PathLike
        The file.
    problem : str
        What is wrong with it.
    line : int, optional
        The 1-based line of the problem.
    expected : str, optional
        What the file should hold.

    Returns
    -------
    InvalidFileError
        With the message ``"PATH, line N: PROBLEM; expected EXPECTED"``.
    """
    where = f"{os.fspath(path)}, line {line}" if line else os.fspath(path)
    message = f"{where}: {problem}" + (f"; expected {expected}" if expected else "")
    return InvalidFileError(message, path=path, line=line)


@contextlib.contextmanager
def _usage_on_bad_file(hint: str) -> Any:
    """Report an :class:`InvalidFileError` raised inside as a usage error."""
    try:
        yield
    except InvalidFileError as exc:
        raise CLIError(str(exc), hint, exit_code=EXIT_USAGE) from exc


def _head(path: Path, n: int = 1024) -> bytes:
    with open(path, "rb") as fh:
        return fh.read(n)


def _not_text(path: Path, exc: UnicodeDecodeError, expected: str) -> InvalidFileError:
    """A file that does not decode: another format, or a line of other bytes."""
    from skmm.retrieval._index import _file_kind

    kind = _file_kind(_head(path))
    if kind != "text":
        return bad_file(path, f"the file holds {kind}, not text", expected=expected)
    line = None
    with open(path, "rb") as fh:
        for number, raw in enumerate(fh, start=1):
            try:
                raw.decode(exc.encoding)
            except UnicodeDecodeError:
                line = number
                break
    return bad_file(
        path,
        f"bytes that are not {exc.encoding} text ({exc.reason})",
        line=line,
        expected=f"{expected}, saved as UTF-8",
    )


def _csv_error(path: Path, exc: Exception, expected: str) -> InvalidFileError:
    import pandas as pd

    if isinstance(exc, UnicodeDecodeError):
        return _not_text(path, exc, expected)
    if isinstance(exc, pd.errors.EmptyDataError):
        return bad_file(path, "the file is empty (no header row)", expected=expected)
    detail = str(exc).replace("Error tokenizing data. C error: ", "").strip()
    found = _LINE_RE.search(detail)
    line = None
    if found:
        # pandas counts "row" from 0 and "line" from 1
        line = int(found.group(2)) + (found.group(1) == "row")
    fields = re.search(r"Expected (\d+) fields in line \d+, saw (\d+)", detail)
    if "EOF inside string" in detail:
        problem = "a quoted field is never closed (an unbalanced quote)"
    elif fields:
        problem = (
            f"a row of {fields.group(2)} fields, but the header has "
            f"{fields.group(1)} (a stray separator or quote?)"
        )
    else:
        problem = f"malformed table ({detail})"
    return bad_file(path, problem, line=line, expected=expected)


_ARCHIVE_MAGIC = {".parquet": b"PAR1", ".pq": b"PAR1", ".npz": b"PK"}


def _archive_error(path: Path, exc: Exception, expected: str) -> InvalidFileError:
    from skmm.retrieval._index import _file_kind

    head = _head(path)
    if not head:
        return bad_file(path, "the file is empty", expected=expected)
    if not head.startswith(_ARCHIVE_MAGIC.get(path.suffix.lower(), b"")):
        return bad_file(path, f"the file holds {_file_kind(head)}", expected=expected)
    # pyarrow: "Could not open Parquet input source '<path>': <the reason>"
    detail = re.sub(r"^Could not open .*? input source '.*?': ", "", str(exc))
    return bad_file(
        path,
        f"the file is truncated or damaged ({type(exc).__name__}: {detail})",
        expected=expected,
    )


def _read_npz_table(path: Path, expected: str) -> Any:
    import numpy as np
    import pandas as pd

    head = _head(path)
    if not head.startswith(b"PK"):
        raise _archive_error(path, ValueError("not a zip archive"), expected)
    with np.load(path, allow_pickle=False) as data:
        if "X" not in data.files or "feature_names" not in data.files:
            raise bad_file(
                path,
                "the archive holds no 'X' and 'feature_names' arrays (it holds "
                f"{', '.join(data.files) or 'nothing'})",
                expected=expected,
            )
        X = data["X"]
        names = [str(n) for n in data["feature_names"]]
        extras = {k: data[k] for k in data.files if k not in ("X", "feature_names")}
    if X.ndim != 2 or X.shape[1] != len(names):
        raise bad_file(
            path,
            f"X has shape {X.shape} but there are {len(names)} feature names",
            expected=expected,
        )
    for k, v in extras.items():
        if v.shape[:1] != X.shape[:1]:
            raise bad_file(
                path,
                f"the array {k!r} has {v.shape[:1] or 'no'} rows, X has {len(X)}",
                expected=expected,
            )
    df = pd.DataFrame(X, columns=names)
    for k, v in extras.items():
        df[k] = v
    return df


def read_table(
    path: str | os.PathLike, *, formats: Sequence[str] = _TABLE_INPUTS
) -> Any:
    """Read a table file into a DataFrame; every bad file gives one clear error.

    The one place the command line reads tables: ``.csv``, ``.tsv``,
    ``.parquet`` (``.pq``) and ``.npz`` (the format ``skmm encode``
    writes).  The errors of pandas, pyarrow, numpy and zipfile (malformed
    CSV, an empty or truncated file, another format under the name, bytes
    that are not UTF-8) become :class:`~skmm.exceptions.InvalidFileError`
    naming the file, the line where the parser knows it, and what was
    expected.

    Parameters
    ----------
    path : str or PathLike
        An existing file.
    formats : sequence of str, default=(".csv", ".tsv", ".parquet", ".pq")
        The suffixes accepted.

    Returns
    -------
    pandas.DataFrame

    Raises
    ------
    InvalidFileError
        When the file cannot be read as the table its suffix says.
    CLIError
        When the suffix is not one of ``formats`` (a usage error).
    """
    import pandas as pd

    p = Path(path)
    suffix = p.suffix.lower()
    if suffix not in formats:
        wanted = ", ".join(dict.fromkeys(f for f in formats if f != ".pq"))
        raise _usage(
            f"cannot read {p.name!r}: expected a {wanted} file",
            "convert the table, e.g. df.to_parquet('data.parquet') in pandas",
        )
    expected = _FORMATS[suffix]
    if suffix in (".parquet", ".pq"):
        _need_pyarrow()
    try:
        if suffix == ".csv":
            return pd.read_csv(p)
        if suffix == ".tsv":
            return pd.read_csv(p, sep="\t")
        if suffix == ".npz":
            return _read_npz_table(p, expected)
        return pd.read_parquet(p)
    except InvalidFileError:
        raise
    except (FileNotFoundError, IsADirectoryError, PermissionError):
        raise
    except (ValueError, OSError, EOFError, KeyError, zipfile.BadZipFile) as exc:
        # pandas' ParserError / EmptyDataError, UnicodeDecodeError and
        # pyarrow's ArrowInvalid are ValueErrors; ArrowIOError is an OSError
        if suffix in (".csv", ".tsv"):
            raise _csv_error(p, exc, expected) from exc
        raise _archive_error(p, exc, expected) from exc


def read_json(path: Path, expected: str) -> dict:
    """Read a JSON object (a sidecar file); a bad one names its line.

    Parameters
    ----------
    path : Path
    expected : str
        What the file should be (for the message).

    Returns
    -------
    dict

    Raises
    ------
    InvalidFileError
        When the file is not UTF-8 JSON holding an object.
    """
    try:
        doc = json.loads(path.read_bytes().decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise _not_text(path, exc, expected) from exc
    except json.JSONDecodeError as exc:
        raise bad_file(
            path,
            f"malformed JSON: {exc.msg} (column {exc.colno})"
            if exc.doc.strip()
            else "the file is empty",
            line=exc.lineno if exc.doc.strip() else None,
            expected=expected,
        ) from exc
    if not isinstance(doc, dict):
        raise bad_file(
            path, f"the JSON holds a {type(doc).__name__}", expected=expected
        )
    return doc


def load_joblib(path: Path, expected: str) -> Any:
    """``joblib.load`` whose unreadable files raise :class:`InvalidFileError`.

    Parameters
    ----------
    path : Path
    expected : str
        What the file should hold (for the message).

    Returns
    -------
    object

    Raises
    ------
    InvalidFileError
        When the file is empty, truncated or not a joblib/pickle file.
    CLIError
        When it is one but needs a module or class this installation lacks
        (a runtime error).
    """
    import joblib

    if not _head(path, 1):
        raise bad_file(path, "the file is empty", expected=expected)
    try:
        return joblib.load(path)
    except (ImportError, AttributeError) as exc:
        raise CLIError(
            f"{path} was written with other packages or versions: "
            f"{type(exc).__name__}: {exc}",
            "install what it needs, or write the file again with this installation",
        ) from exc
    except (FileNotFoundError, IsADirectoryError, PermissionError):
        raise
    except Exception as exc:  # UnpicklingError, EOFError, ValueError, KeyError, ...
        from skmm.retrieval._index import _file_kind

        kind = _file_kind(_head(path))
        problem = (
            f"the file holds {kind}"
            if kind not in ("a Python pickle (joblib) file", "text")
            and not kind.startswith("binary")
            else f"the file is truncated or not a joblib file "
            f"({type(exc).__name__}: {exc})"
        )
        raise bad_file(path, problem, expected=expected) from exc


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


def read_encoded(path: str | os.PathLike) -> Encoded:
    """Read an ``encode`` output (``.parquet`` or ``.npz``) and its sidecar.

    Parameters
    ----------
    path : str or PathLike

    Returns
    -------
    Encoded

    Raises
    ------
    InvalidFileError
        When the file or its sidecar cannot be read, or they do not match.
    CLIError
        When the path is missing or a folder, or the file holds no encoded
        blocks (usage errors).
    """
    import numpy as np

    p = _existing_file(path, "encoded file")
    if p.suffix.lower() not in (".parquet", ".pq", ".npz"):
        raise _usage(
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
        raise _usage(
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


def _resolve_modality(blocks: Mapping[str, dict], wanted: str, what: str) -> str:
    """A block name from a block name, a kind (``image``) or a column name."""
    if wanted in blocks:
        return wanted
    for key in ("kind", "column"):
        hits = [n for n, b in blocks.items() if b.get(key) == wanted]
        if len(hits) == 1:
            return hits[0]
        if len(hits) > 1:
            raise _usage(
                f"{what} {wanted!r} matches several blocks: {', '.join(hits)}",
                f"name one of them: --modality {hits[0]}",
            )
    raise _usage(
        f"unknown modality {wanted!r}; the encoded file holds: "
        + ", ".join(_describe_block(n, b) for n, b in blocks.items()),
        "pass one of those names with --modality",
    )


def _describe_block(name: str, block: Mapping[str, Any]) -> str:
    enc = block.get("encoder")
    return f"{name} ({enc}, {block.get('width')}-d)" if enc else name


# --------------------------------------------------------------------------
# encode
# --------------------------------------------------------------------------


def _make_encoder(
    spec: ColumnSpec,
    *,
    cache: Any,
    verbose: int,
    batch_size: int | None,
    device: str | None,
) -> tuple[Any, dict]:
    from skmm.exceptions import MissingDependencyError
    from skmm.registry import encoders

    names = encoders.names()
    if spec.encoder not in names:
        raise _usage(
            f"unknown encoder {spec.encoder!r} (in --column "
            f"{spec.column}={spec.encoder})",
            "registered encoders: " + ", ".join(names),
        )
    try:
        factory = encoders.get(spec.encoder)
    except ImportError as exc:
        if isinstance(exc, MissingDependencyError):
            raise
        raise CLIError(str(exc), "reinstall or remove that plugin package") from exc
    settings = dict(spec.settings)
    if spec.has_positional:
        first = _first_positional(factory)
        if first is None:
            raise _usage(
                f"encoder {spec.encoder!r} takes no positional setting "
                f"(got {spec.positional!r})",
                "write settings as KEY=VALUE, e.g. "
                f"{spec.column}={spec.encoder}:{_param_example(factory)}",
            )
        settings[first] = spec.positional
    try:
        enc = encoders.create(spec.encoder, **settings)
    except TypeError as exc:
        raise _usage(
            f"encoder {spec.encoder!r}: {exc}",
            f"its settings are: {', '.join(_param_names(factory))}",
        ) from exc
    params = enc.get_params(deep=False) if hasattr(enc, "get_params") else {}
    updates: dict[str, Any] = {}
    if "cache" in params and "cache" not in settings:
        updates["cache"] = cache
    if "verbose" in params and "verbose" not in settings:
        updates["verbose"] = verbose
    if batch_size is not None and "batch_size" in params:
        updates["batch_size"] = batch_size
    if device is not None and "device" in params and "device" not in settings:
        updates["device"] = device
    if updates:
        enc.set_params(**updates)
    validate = getattr(enc, "_validate_params", None)
    if callable(validate):
        try:
            validate()
        except ValueError as exc:  # sklearn's InvalidParameterError
            raise _usage(
                f"encoder {spec.encoder!r}: {exc}",
                f"its settings are: {', '.join(_param_names(factory))}",
            ) from exc
    return enc, settings


def _first_positional(factory: Any) -> str | None:
    try:
        sig = inspect.signature(factory)
    except (TypeError, ValueError):
        return None
    for p in sig.parameters.values():
        if p.kind == p.POSITIONAL_OR_KEYWORD and p.name != "self":
            return p.name
        if p.kind != p.POSITIONAL_ONLY:
            break
    return None


def _param_names(factory: Any) -> list[str]:
    try:
        sig = inspect.signature(factory)
    except (TypeError, ValueError):
        return []
    return [
        p.name
        for p in sig.parameters.values()
        if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD) and p.name != "self"
    ]


def _param_example(factory: Any) -> str:
    names = _param_names(factory)
    return f"{names[0]}=..." if names else "KEY=VALUE"


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
        raise _usage(
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
            raise _usage(
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
        ``device``, ``quiet``.

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
    if out_kind not in (".parquet", ".pq", ".npz"):
        raise _usage(
            f"cannot write {out.name!r}: OUTPUT must end in .parquet or .npz",
            "e.g. -o encoded.parquet",
        )
    specs = [parse_column_spec(s) for s in args.columns]
    path = _existing_file(args.input, "input file")
    if out_kind in (".parquet", ".pq"):
        _need_pyarrow()
    with _usage_on_bad_file("fix the file (or export it again), then rerun"):
        df = read_table(path)
    df.columns = [str(c) for c in df.columns]
    _check_columns(df, [s.column for s in specs], "--column", path)
    keep = list(dict.fromkeys(args.keep or []))
    _check_columns(df, keep, "--keep", path)
    if ROW_COLUMN in keep:
        keep.remove(ROW_COLUMN)
    if len(df) == 0:
        raise _usage(f"{path} has no rows", "pass a table with at least one row")

    cache = _cache_setting(args)
    built = [
        _make_encoder(
            s,
            cache=cache,
            verbose=0 if args.quiet else 1,
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

    blocks: dict[str, dict] = {}
    for s, name, kind, (enc, settings) in zip(specs, names, kinds, built):
        feats = [c for c in features.columns if c.startswith(f"{name}__")]
        blocks[name] = {
            "name": name,
            "column": s.column,
            "kind": kind,
            "encoder": s.encoder,
            "settings": _jsonable(settings),
            "params": _jsonable(fitted[name].get_params(deep=False)),
            "class": f"{type(enc).__module__}.{type(enc).__qualname__}",
            "width": len(feats),
            "features": feats,
        }
    kept = df[keep].reset_index(drop=True)
    rows = np.arange(len(df), dtype=np.int64)
    out.parent.mkdir(parents=True, exist_ok=True)
    if out_kind == ".npz":
        arrays = {
            "X": features.to_numpy(np.float32),
            "feature_names": np.asarray(list(features.columns), dtype=str),
            ROW_COLUMN: rows,
        }
        for c in keep:
            if c in arrays:
                raise _usage(
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
    sidecar_path(out).write_text(json.dumps(meta, indent=2) + "\n")

    widths = ", ".join(
        f"{n} {b['width']}-d ({b['encoder']})" for n, b in blocks.items()
    )
    if cache is None:
        cache_text = "cache off"
    else:
        where = cache if isinstance(cache, str) else str(default_cache_dir())
        cache_text = f"cache {stats['hits']} hits, {stats['misses']} misses ({where})"
    _say(f"encoded {len(df)} rows in {seconds:.2f} s: {widths}; {cache_text} -> {out}")
    return 0


def _npz_column(series: Any) -> Any:
    """A kept column as an array ``np.load`` reads without pickle."""
    import numpy as np

    arr = series.to_numpy()
    if arr.dtype.kind in "biufcmMU":
        return arr
    return np.asarray(["" if v is None or v != v else str(v) for v in arr], dtype=str)


# --------------------------------------------------------------------------
# index
# --------------------------------------------------------------------------


def _load_retriever(path: str | os.PathLike) -> Any:

    p = _existing_file(path, "retriever file")
    with _usage_on_bad_file(
        "pass a file written with joblib.dump(fitted_retriever, path)"
    ):
        retriever = load_joblib(p, "a fitted skmm retriever saved with joblib.dump")
    if not callable(getattr(retriever, "embed", None)) or not hasattr(
        retriever, "modality_columns_"
    ):
        raise _usage(
            f"{p} holds a {type(retriever).__name__}, not a fitted skmm retriever",
            "fit e.g. skmm.retrieval.CCARetriever on the encoded table and "
            "joblib.dump it",
        )
    return retriever


def _retriever_embed(retriever: Any, block: Any, modality: str) -> Any:
    known = list(retriever.modality_columns_)
    if modality not in known:
        raise _usage(
            f"the retriever ({type(retriever).__name__}) embeds the modalities "
            f"{', '.join(known)}, not {modality!r}",
            "fit the retriever with query=/target= naming the encoded blocks",
        )
    return retriever.embed(block, modality=modality)


def _make_index(kind: str, n: int, device: str | None) -> Any:
    from skmm.retrieval import ExactIndex, FaissIndex

    if kind == "exact":
        return ExactIndex(metric="cosine", device=device or "auto")
    faiss_kind = kind.split("-", 1)[1]
    params: dict[str, Any] = {"kind": faiss_kind, "metric": "cosine"}
    if faiss_kind == "ivf":
        params["nlist"] = max(1, min(1024, int(math.sqrt(n))))
    return FaissIndex(**params)


_ENCODED_HINT = (
    "pass the .parquet or .npz that `skmm encode` wrote, with its .skmm.json "
    "beside it (or encode again)"
)
_INDEX_HINT = "build the index again with `skmm index ENCODED -o INDEX_FILE`"


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

    with _usage_on_bad_file(_ENCODED_HINT):
        enc = read_encoded(args.encoded)
    blocks = enc.blocks
    if args.modality is None:
        if len(blocks) > 1:
            raise _usage(
                "the encoded file holds several modalities: "
                + ", ".join(_describe_block(n, b) for n, b in blocks.items()),
                f"choose the gallery with --modality {next(iter(blocks))}",
            )
        name = next(iter(blocks))
    else:
        name = _resolve_modality(blocks, args.modality, "--modality")
    block = enc.features[blocks[name]["features"]]
    out = Path(args.output).expanduser()
    out.parent.mkdir(parents=True, exist_ok=True)

    retriever = None
    if args.retriever:
        retriever = _load_retriever(args.retriever)
        vectors = _retriever_embed(retriever, block, name)
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
    _say(
        f"indexed {int(ok.sum())} {name} vectors ({vectors.shape[1]}-d, "
        f"{args.kind}, {'retriever space' if retriever else 'encoder space'})"
        + (f"; {dropped} rows without that modality left out" if dropped else "")
        + f" -> {out}"
    )
    return 0


# --------------------------------------------------------------------------
# query
# --------------------------------------------------------------------------


def _read_index_meta(path: Path) -> dict:
    meta_path = sidecar_path(path)
    if not meta_path.exists():
        raise _usage(
            f"{path} has no {meta_path.name} beside it",
            "build the index with `skmm index ENCODED -o INDEX_FILE`",
        )
    expected = f"the JSON `skmm index` writes beside {path.name}"
    with _usage_on_bad_file(_INDEX_HINT):
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
        raise _usage(
            "give exactly one query: a text, --image PATH or --audio PATH"
            + (f" (got {len(given)})" if given else ""),
            'e.g. skmm query gallery.npz "a red apple" -k 5',
        )
    kind, value = given[0]
    if kind != "text":
        p = _existing_file(value, f"{kind} query file")
        value = str(p.resolve())
    return kind, value


def _query_block(meta: dict, kind: str, wanted: str | None) -> str:
    blocks = meta["blocks"]
    if wanted is not None:
        return _resolve_modality(blocks, wanted, "--query-modality")
    gallery = meta["modality"]
    if blocks.get(gallery, {}).get("kind") == kind:
        return gallery
    hits = [n for n, b in blocks.items() if b.get("kind") == kind]
    if len(hits) == 1:
        return hits[0]
    if not hits:
        raise _usage(
            f"no {kind} encoder was recorded for this index (its blocks: "
            + ", ".join(_describe_block(n, b) for n, b in blocks.items())
            + ")",
            f"encode a {kind} column together with the gallery's column",
        )
    raise _usage(
        f"several {kind} blocks could encode the query: {', '.join(hits)}",
        f"choose one with --query-modality {hits[0]}",
    )


def _query_encoder(index_path: Path, meta: dict, name: str) -> tuple[Any, bool]:

    from skmm.registry import encoders

    block = meta["blocks"][name]
    enc_file = meta.get("files", {}).get("encoders")
    if enc_file and (index_path.parent / enc_file).exists():
        with _usage_on_bad_file(_INDEX_HINT):
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

    path = _existing_file(args.index, "index file")
    with _usage_on_bad_file(_INDEX_HINT):
        index = load_index(path)  # first: a damaged index fails before any work
    meta = _read_index_meta(path)
    if len(meta["rows"]) != len(index):
        raise _usage(
            f"{path} holds {len(index)} vectors but {sidecar_path(path).name} "
            f"lists {len(meta['rows'])} rows: they come from different runs",
            _INDEX_HINT,
        )
    kind, item = _query_item(args)
    name = _query_block(meta, kind, args.query_modality)
    gallery = meta["modality"]
    blocks = meta["blocks"]

    retriever = None
    if args.retriever:
        if meta["space"] != "retriever":
            raise _usage(
                "this index holds encoder vectors (built without --retriever); "
                "a retriever's queries cannot be compared with them",
                "index again with `skmm index ENCODED --retriever FILE ...`",
            )
        retriever = _load_retriever(args.retriever)
    elif meta["space"] == "retriever":
        stored = meta.get("files", {}).get("retriever")
        if not stored or not (path.parent / stored).exists():
            raise CLIError(
                "the index was built in a retriever's space, and its copy of the "
                "retriever is missing",
                "pass the retriever again with --retriever FILE",
            )
        retriever = _load_retriever(path.parent / stored)
    if retriever is None and name != gallery:
        raise _usage(
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
        vec = _retriever_embed(retriever, frame, name)
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
        _say(
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
            row.extend(_cell(r[c]) for c in columns)
        _say(_format_table(header, table))
    return 0


def _cell(value: Any, limit: int = 60) -> str:
    text = "" if value is None else str(value)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _format_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [len(h) for h in header]
    for row in rows:
        widths = [max(w, len(c)) for w, c in zip(widths, row)]
    numeric = [
        all(_is_number(row[j]) for row in rows) if rows else False
        for j in range(len(header))
    ]

    def fmt(row: Sequence[str]) -> str:
        cells = [
            c.rjust(w) if num else c.ljust(w) for c, w, num in zip(row, widths, numeric)
        ]
        return "  ".join(cells).rstrip()

    return "\n".join([fmt(header), *(fmt(r) for r in rows)])


def _is_number(text: str) -> bool:
    try:
        float(text.split(" ")[0])
    except ValueError:
        return False
    return True


# --------------------------------------------------------------------------
# search
# --------------------------------------------------------------------------

_CONFIG_KEYS = {"target", "task", "estimator", "search", "storage", "study_name"}
_SEARCH_KEYS = {
    "n_trials",
    "cv",
    "scoring",
    "random_state",
    "timeout",
    "fusions",
    "overrides",
    "n_jobs",
    "storage",
    "study_name",
}


def _toml_module() -> Any:
    if sys.version_info >= (3, 11):
        import tomllib

        return tomllib
    try:
        import tomli
    except ImportError as exc:  # pragma: no cover - Python 3.10 without tomli
        raise CLIError(
            "reading CONFIG.toml needs tomli on Python 3.10",
            "pip install tomli (or use Python >= 3.11)",
        ) from exc
    return tomli  # pragma: no cover


def load_config(path: str | os.PathLike) -> dict:
    """Read and check a ``skmm search`` TOML configuration.

    Parameters
    ----------
    path : str or PathLike

    Returns
    -------
    dict
    """
    p = _existing_file(path, "config file")
    toml = _toml_module()
    expected = "TOML settings (see `skmm search --help`)"
    hint = 'e.g.  target = "label"  and a [search] table with n_trials = 20'
    with _usage_on_bad_file(hint):
        try:
            with open(p, "rb") as fh:
                config = toml.load(fh)
        except UnicodeDecodeError as exc:
            raise _not_text(p, exc, expected) from exc
        except toml.TOMLDecodeError as exc:
            # "Invalid value (at line 1, column 10)"; Python 3.14 adds .lineno
            text = str(exc)
            found = re.search(r"\s*\(at line (\d+), column (\d+)\)", text)
            line = getattr(exc, "lineno", None) or (int(found[1]) if found else None)
            problem = text[: found.start()] + text[found.end() :] if found else text
            if found:
                problem += f" (column {found[2]})"
            raise bad_file(
                p, f"not valid TOML: {problem}", line=line, expected=expected
            ) from exc
    unknown = sorted(set(config) - _CONFIG_KEYS)
    if unknown:
        raise _usage(
            f"{p.name}: unknown key(s) {', '.join(unknown)}",
            "known keys: " + ", ".join(sorted(_CONFIG_KEYS)),
        )
    search = config.get("search", {})
    if not isinstance(search, dict):
        raise _usage(
            f"{p.name}: 'search' must be a table",
            "write the search settings under a [search] header",
        )
    unknown = sorted(set(search) - _SEARCH_KEYS)
    if unknown:
        raise _usage(
            f"{p.name}: unknown key(s) in [search]: {', '.join(unknown)}",
            "known keys: " + ", ".join(sorted(_SEARCH_KEYS)),
        )
    if not isinstance(config.get("estimator", {}), dict):
        raise _usage(
            f"{p.name}: 'estimator' must be a table",
            "write the estimator settings under an [estimator] header",
        )
    if "target" not in config or not isinstance(config["target"], str):
        raise _usage(
            f"{p.name} names no target column",
            'add  target = "label"  (a column kept with `skmm encode --keep label`)',
        )
    task = config.get("task", "classification")
    if task not in ("classification", "regression"):
        raise _usage(
            f"{p.name}: task must be 'classification' or 'regression', got {task!r}",
            'e.g. task = "regression" for a numeric target',
        )
    config["task"] = task
    return config


def _space(search_cfg: Mapping[str, Any]) -> Callable | None:
    import functools

    from skmm.model_selection import fusion_space
    from skmm.registry import fusions

    strategies = search_cfg.get("fusions")
    overrides = search_cfg.get("overrides")
    if strategies is None and overrides is None:
        return None
    if strategies is not None:
        if isinstance(strategies, str):
            strategies = [strategies]
        known = fusions.names()
        bad = [s for s in strategies if s not in known]
        if bad or not strategies:
            raise _usage(
                f"unknown fusion strategy {', '.join(map(repr, bad)) or '(none)'} "
                "in [search] fusions",
                "registered fusions: " + ", ".join(known),
            )
    if overrides is not None and not isinstance(overrides, dict):
        raise _usage(
            "[search] overrides must be a table of parameter -> choices",
            "e.g. [search.overrides] with lr = [0.001, 0.0003]",
        )
    return functools.partial(
        fusion_space, strategies=strategies, overrides=overrides, prefix=""
    )


def _make_estimator(config: Mapping[str, Any]) -> Any:
    from skmm.fusion import FusionClassifier, FusionRegressor

    cls = FusionClassifier if config["task"] == "classification" else FusionRegressor
    params = dict(config.get("estimator", {}))
    try:
        est = cls(**params)
        est._validate_params()
    except (TypeError, ValueError) as exc:
        raise _usage(
            f"[estimator]: {exc}",
            f"{cls.__name__} settings: "
            + ", ".join(sorted(cls().get_params(deep=False))),
        ) from exc
    return est


def cmd_search(args: argparse.Namespace) -> int:
    """``skmm search``: run :class:`~skmm.model_selection.FusionSearchCV`.

    Parameters
    ----------
    args : argparse.Namespace
        ``encoded``, ``config``, ``storage``, ``study_name``, ``n_trials``,
        ``timeout``, ``output``, ``quiet``.

    Returns
    -------
    int
        The exit code (0).
    """
    import warnings

    import joblib
    import numpy as np

    config = load_config(args.config)
    search_cfg = dict(config.get("search", {}))
    with _usage_on_bad_file(_ENCODED_HINT):
        enc = read_encoded(args.encoded)
    target = config["target"]
    if target not in enc.extras.columns:
        kept = [c for c in enc.extras.columns if c != ROW_COLUMN]
        raise _usage(
            f"the target column {target!r} is not in {enc.path.name} (kept columns: "
            f"{', '.join(kept) or 'none'})",
            f"encode again with --keep {target}",
        )
    y = enc.extras[target]
    ok = y.notna().to_numpy()
    X, y = enc.features[ok].reset_index(drop=True), y[ok].to_numpy()
    if not ok.all():
        _say(f"note: {int((~ok).sum())} rows without a {target!r} value left out")
    estimator = _make_estimator(config)
    space = _space(search_cfg)
    storage = (
        args.storage or search_cfg.get("storage") or config.get("storage") or "auto"
    )
    storage = None if storage == "memory" else storage
    study_name = (
        args.study_name or search_cfg.get("study_name") or config.get("study_name")
    )
    n_trials = (
        args.n_trials if args.n_trials is not None else search_cfg.get("n_trials", 20)
    )
    timeout = args.timeout if args.timeout is not None else search_cfg.get("timeout")
    scoring = search_cfg.get("scoring")
    if scoring is not None and not isinstance(scoring, str):
        raise _usage(
            "[search] scoring must be one metric name",
            'e.g. scoring = "accuracy" (any scikit-learn scorer name)',
        )
    from skmm.model_selection import FusionSearchCV

    search = FusionSearchCV(
        estimator,
        space,
        n_trials=n_trials,
        timeout=timeout,
        scoring=scoring,
        cv=search_cfg.get("cv"),
        storage=storage,
        study_name=study_name,
        n_jobs=search_cfg.get("n_jobs"),
        random_state=search_cfg.get("random_state"),
        verbose=0 if args.quiet else 1,
    )
    try:
        search._validate_params()
    except ValueError as exc:
        raise _usage(
            f"[search]: {exc}", "fix that setting in [search] or on the command line"
        ) from exc
    import optuna

    level = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.WARNING)  # we print our own lines
    t0 = time.perf_counter()
    try:
        with warnings.catch_warnings():
            if args.quiet:
                warnings.simplefilter("ignore")
            search.fit(X, y)
    finally:
        optuna.logging.set_verbosity(level)
    seconds = time.perf_counter() - t0

    res = search.cv_results_
    metric = scoring or ("accuracy" if config["task"] == "classification" else "r2")
    _say(
        f"searched {len(res['params'])} trials in {seconds:.1f} s "
        f"({search.n_splits_}-fold CV, {len(y)} rows); study "
        f"{search.study_name_!r} in {_describe_storage(storage)}"
    )
    _say(f"best score: {search.best_score_:.4f} ({metric})")
    _say("best params: " + _format_params(search.best_params_))
    order = np.argsort(res["rank_test_score"], kind="stable")[:5]
    header = ["rank", "trial", "state", "score", "std", "epochs", "params"]
    rows = []
    for j in order:
        mean, std = res["mean_test_score"][j], res["std_test_score"][j]
        rows.append(
            [
                str(int(res["rank_test_score"][j])),
                str(int(res["trial_number"][j])),
                str(res["state"][j]),
                "nan" if not np.isfinite(mean) else f"{mean:.4f}",
                "nan" if not np.isfinite(std) else f"{std:.4f}",
                str(int(res["n_epochs"][j])),
                _format_params(res["params"][j]),
            ]
        )
    _say("top trials:")
    _say(_format_table(header, rows))
    if args.output:
        out = Path(args.output).expanduser()
        out.parent.mkdir(parents=True, exist_ok=True)
        joblib.dump(search.best_estimator_, out)
        _say(f"best estimator -> {out}")
    return 0


def _format_params(params: Mapping[str, Any]) -> str:
    def fmt(v: Any) -> str:
        if isinstance(v, float):
            return f"{v:.4g}"
        return str(v)

    return " ".join(f"{k}={fmt(v)}" for k, v in params.items()) or "(defaults)"


def _describe_storage(storage: Any) -> str:
    if storage is None:
        return "memory"
    if storage == "auto":
        return "skmm_optuna.db (working folder; resume with --study-name)"
    return f"{storage} (resume with --study-name)"
