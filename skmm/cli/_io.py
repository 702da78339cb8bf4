"""The readers and writers the commands share.

Every file handed to a command is read here: tables (``.csv``, ``.tsv``,
``.parquet``, ``.npz``), JSON sidecars, TOML configurations and joblib
files.  A file that cannot be read as what its name says raises one
:class:`~skmm.exceptions.InvalidFileError` naming the file, the line where
the format has lines, and what was expected.  The plain-text tables the
commands print are written here too.
"""

from __future__ import annotations

import json
import math
import os
import re
import sys
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from skmm.cli._errors import CLIError, usage
from skmm.exceptions import InvalidFileError

__all__ = [
    "bad_file",
    "existing_file",
    "format_table",
    "jsonable",
    "load_joblib",
    "read_json",
    "read_table",
    "read_toml",
    "say",
]

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


def say(*parts: Any) -> None:
    """Print a line of a command's output (flushed, for progress)."""
    print(*parts, flush=True)


def existing_file(path: str | os.PathLike, what: str) -> Path:
    """``path`` as a :class:`~pathlib.Path`; a usage error when it is missing
    or a folder (``what`` names it in the message)."""
    p = Path(path).expanduser()
    if not p.exists():
        raise usage(
            f"{what} not found: {os.fspath(path)}",
            f"check the path (relative paths start from {Path.cwd()})",
        )
    if p.is_dir():
        raise usage(
            f"{what} is a folder, not a file: {os.fspath(path)}",
            "pass the file inside it",
        )
    return p


def need_pyarrow() -> None:
    """Raise :class:`~skmm.exceptions.MissingDependencyError` without pyarrow."""
    from skmm.utils._imports import import_optional

    import_optional("pyarrow")


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


def _head(path: Path, n: int = 1024) -> bytes:
    with open(path, "rb") as fh:
        return fh.read(n)


def _not_text(path: Path, exc: UnicodeDecodeError, expected: str) -> InvalidFileError:
    """A file that does not decode: another format, or a line of other bytes."""
    from skmm.retrieval._index_file import _file_kind

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
    from skmm.retrieval._index_file import _file_kind

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
        raise usage(
            f"cannot read {p.name!r}: expected a {wanted} file",
            "convert the table, e.g. df.to_parquet('data.parquet') in pandas",
        )
    expected = _FORMATS[suffix]
    if suffix in (".parquet", ".pq"):
        need_pyarrow()
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
        The sidecar.
    expected : str
        What the file should be (for the message).

    Returns
    -------
    dict
        The object.

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
        from skmm.retrieval._index_file import _file_kind

        kind = _file_kind(_head(path))
        problem = (
            f"the file holds {kind}"
            if kind not in ("a Python pickle (joblib) file", "text")
            and not kind.startswith("binary")
            else f"the file is truncated or not a joblib file "
            f"({type(exc).__name__}: {exc})"
        )
        raise bad_file(path, problem, expected=expected) from exc


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


def read_toml(path: Path, expected: str) -> dict:
    """Read a TOML file (a ``skmm search`` configuration) into a dict.

    A file that is not UTF-8 text or not valid TOML raises
    :class:`~skmm.exceptions.InvalidFileError` naming its line; ``expected``
    says what it should hold.
    """
    toml = _toml_module()
    try:
        with open(path, "rb") as fh:
            return toml.load(fh)
    except UnicodeDecodeError as exc:
        raise _not_text(path, exc, expected) from exc
    except toml.TOMLDecodeError as exc:
        # "Invalid value (at line 1, column 10)"; Python 3.14 adds .lineno
        text = str(exc)
        found = re.search(r"\s*\(at line (\d+), column (\d+)\)", text)
        line = getattr(exc, "lineno", None) or (int(found[1]) if found else None)
        problem = text[: found.start()] + text[found.end() :] if found else text
        if found:
            problem += f" (column {found[2]})"
        raise bad_file(
            path, f"not valid TOML: {problem}", line=line, expected=expected
        ) from exc


def jsonable(value: Any) -> Any:
    """``value`` as JSON can hold it (paths as strings, NaN as null, numpy
    scalars as numbers, anything else as its repr)."""
    if value is None or isinstance(value, (bool, int, float, str)):
        if isinstance(value, float) and not math.isfinite(value):
            return None
        return value
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    item = getattr(value, "item", None)  # numpy scalars
    if callable(item):
        try:
            return jsonable(item())
        except (TypeError, ValueError):
            pass
    return repr(value)


def cell(value: Any, limit: int = 60) -> str:
    """A value as one table cell: on one line, at most ``limit`` characters."""
    text = "" if value is None else str(value)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def format_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A plain-text table: columns padded, numeric columns right-aligned."""
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
