"""Where a search's study lives: in memory, a file beside the user's work, or
a database shared by workers on several machines."""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from skmm.exceptions import InvalidFileError

__all__ = [
    "DEFAULT_JOURNAL",
    "DEFAULT_SQLITE",
    "absolute_storage",
    "describe_storage",
    "make_storage",
    "storage_errors",
    "storage_file",
]

DEFAULT_SQLITE = "skmm_optuna.db"
DEFAULT_JOURNAL = "skmm_optuna.journal"


def _is_url(spec: str) -> bool:
    return "://" in spec


def make_storage(spec: Any, n_jobs: int = 1) -> Any:
    """An Optuna storage from ``spec``.

    Parameters
    ----------
    spec : None, "auto", str, path or optuna storage
        - ``None``: in memory (nothing written; one process only);
        - ``"auto"``: a file in the working folder, ``skmm_optuna.db``
          (SQLite) for one process, ``skmm_optuna.journal`` (Optuna's
          JournalStorage, safe for several processes) when ``n_jobs > 1``;
        - a database URL (``sqlite:///file.db``, ``postgresql://...``);
        - a path ending in ``.journal`` or ``.log``: a journal file;
          ``.db`` / ``.sqlite``: an SQLite file;
        - an Optuna storage object, used as is.
    n_jobs : int, default=1
        Worker processes that will share the storage.

    Returns
    -------
    optuna.storages.BaseStorage or None
        ``None`` for in memory (Optuna's default).
    """
    import optuna

    if spec is None:
        if n_jobs > 1:
            raise ValueError(
                "storage=None keeps the study in memory, which worker "
                f"processes cannot share (n_jobs={n_jobs}); use storage='auto' "
                "(a journal file in the working folder) or a database URL."
            )
        return None
    if isinstance(spec, optuna.storages.BaseStorage):
        return spec
    if isinstance(spec, str) and spec == "auto":
        spec = DEFAULT_JOURNAL if n_jobs > 1 else DEFAULT_SQLITE
    if isinstance(spec, (str, os.PathLike)):
        text = os.fspath(spec)
        if _is_url(text):
            return _rdb(text)
        path = Path(text).expanduser().resolve()
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.suffix in (".journal", ".log"):
            return _journal(path)
        if path.suffix in (".db", ".sqlite", ".sqlite3"):
            return _rdb(f"sqlite:///{path}")
        raise ValueError(
            f"storage={text!r}: a file path must end in .db/.sqlite (SQLite) or "
            ".journal/.log (journal file); or pass a database URL."
        )
    raise TypeError(
        "storage must be None, 'auto', a path, a database URL or an Optuna "
        f"storage; got {type(spec).__name__}."
    )


def _rdb(url: str) -> Any:
    import optuna

    from skmm.model_selection._resume import grace_period, heartbeat_interval

    path = _sqlite_path(url)
    if path is not None:
        check_sqlite_file(path)
    # heartbeats: a killed worker's trial is failed (not left running) on resume
    kwargs: dict[str, Any] = {
        "heartbeat_interval": heartbeat_interval(),
        "grace_period": grace_period(),
    }
    if url.startswith("sqlite"):
        kwargs["engine_kwargs"] = {"connect_args": {"timeout": 60}}
    else:
        kwargs["engine_kwargs"] = {"pool_pre_ping": True}
    try:
        with storage_errors(path), warnings.catch_warnings():
            # heartbeats are "experimental" in Optuna, stable in practice
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            return optuna.storages.RDBStorage(url, **kwargs)
    except ImportError as exc:  # a database driver is missing
        raise ImportError(
            f"The storage {url.split('://')[0]!r} needs a database driver: {exc}. "
            "For PostgreSQL: pip install 'skmm[postgres]' (psycopg 3)."
        ) from exc


def absolute_storage(spec: Any, n_jobs: int = 1) -> Any:
    """``spec`` with file paths made absolute (``"auto"`` included), so that
    worker processes whose working folder differs open the same file."""
    if isinstance(spec, str) and spec == "auto":
        spec = DEFAULT_JOURNAL if n_jobs > 1 else DEFAULT_SQLITE
    if isinstance(spec, (str, os.PathLike)) and not _is_url(os.fspath(spec)):
        return str(Path(os.fspath(spec)).expanduser().resolve())
    return spec


def describe_storage(spec: Any, n_jobs: int = 1) -> str:
    """A short human-readable description of where the study lives."""
    if spec is None:
        return "in memory"
    if isinstance(spec, str) and spec == "auto":
        name = DEFAULT_JOURNAL if n_jobs > 1 else DEFAULT_SQLITE
        return str(Path(name).resolve())
    if isinstance(spec, (str, os.PathLike)):
        text = os.fspath(spec)
        if _is_url(text) and "@" in text:  # hide credentials
            scheme, rest = text.split("://", 1)
            return f"{scheme}://***@{rest.split('@', 1)[1]}"
        return text
    return type(spec).__name__


# ------------------------------------------------------- storage files
_SQLITE_MAGIC = b"SQLite format 3\x00"
_WHAT_TO_DO = (
    "Point storage= at another file, or move or delete this one (the studies "
    "in it are lost) to start afresh."
)


def storage_file(spec: Any, n_jobs: int = 1) -> Path | None:
    """The local file a storage ``spec`` names (a path or an ``sqlite:///``
    URL), or ``None`` (in memory, a server database, a storage object)."""
    if isinstance(spec, str) and spec == "auto":
        spec = DEFAULT_JOURNAL if n_jobs > 1 else DEFAULT_SQLITE
    if not isinstance(spec, (str, os.PathLike)):
        return None
    text = os.fspath(spec)
    if _is_url(text):
        return _sqlite_path(text)
    return Path(text).expanduser().resolve()


def _sqlite_path(url: str) -> Path | None:
    if not url.startswith("sqlite:///"):
        return None
    rest = url[len("sqlite:///") :].split("?", 1)[0]
    if not rest or rest == ":memory:" or rest.startswith("file:"):
        return None
    return Path(rest).expanduser().resolve()


def _bad(path: Path, what: str, advice: str = _WHAT_TO_DO) -> InvalidFileError:
    return InvalidFileError(f"The study storage {path} {what}. {advice}", path=path)


def _is_file(path: Path) -> bool:
    """Whether there is a file to check (a missing one is fine: the storage
    creates it); a folder fails."""
    if path.is_dir():
        raise _bad(path, "is a folder, not a file")
    return path.exists()


def _read_head(path: Path, size: int) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read(size)
    except OSError as exc:
        raise _bad(path, f"cannot be read ({exc.strerror or exc})") from exc


def check_sqlite_file(path: Path) -> None:
    """Fail with :class:`~skmm.exceptions.InvalidFileError` when the file
    ``path`` (a Path) is not a usable SQLite study file: a folder, an
    unreadable file, a file of another format, a truncated or damaged
    database, or the database of another program (a missing or empty file
    is fine: SQLite creates it)."""
    if not _is_file(path):
        return
    head = _read_head(path, 100)
    if not head:
        return
    if not head.startswith(_SQLITE_MAGIC):
        raise _bad(path, f"is not an SQLite database (it starts with {head[:16]!r})")
    hot = any(Path(f"{path}{s}").exists() for s in ("-journal", "-wal"))
    if len(head) == 100 and not hot:  # SQLite repairs a file with a hot journal
        page = int.from_bytes(head[16:18], "big")
        page = 65536 if page == 1 else page
        pages = int.from_bytes(head[28:32], "big")
        valid = head[24:28] == head[92:96]  # the page count is up to date
        if valid and pages and path.stat().st_size < page * pages:
            raise _bad(
                path,
                f"is truncated ({path.stat().st_size} bytes; its header says "
                f"{page * pages})",
            )
    try:
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=60)
        try:
            rows = con.execute("SELECT name FROM sqlite_master WHERE type='table'")
            tables = {r[0] for r in rows}
        finally:
            con.close()
    except sqlite3.DatabaseError as exc:
        raise _bad(path, f"is a damaged SQLite database ({exc})") from exc
    if tables and not {"studies", "version_info"} & tables:
        listed = ", ".join(sorted(tables)[:5])
        raise _bad(
            path,
            f"is the SQLite database of another program (tables: {listed}), "
            "not an Optuna study file",
            "Point storage= at another file (a new one, or one made by a search).",
        )


def _journal(path: Path) -> Any:
    import optuna
    from optuna.storages.journal import JournalFileBackend

    check_journal_file(path)
    try:
        return optuna.storages.JournalStorage(JournalFileBackend(str(path)))
    except Exception as exc:
        raise _journal_error(path, exc) from exc


def _bad_journal_line(line: bytes) -> str | None:
    try:
        entry = json.loads(line)
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError
        return f"not JSON: {exc}"
    if not isinstance(entry, dict) or "op_code" not in entry:
        return "not an Optuna journal entry"
    return None


def _journal_error(path: Path, exc: BaseException | None = None) -> InvalidFileError:
    """An error naming the first bad line of a journal file."""
    try:
        with open(path, "rb") as f:
            for number, line in enumerate(f, start=1):
                if not line.endswith(b"\n"):
                    return InvalidFileError(
                        f"The study storage {path} ends in the middle of line "
                        f"{number} (the file was cut short). Delete that line to "
                        f"keep the rest of the journal. {_WHAT_TO_DO}",
                        path=path,
                        line=number,
                    )
                why = _bad_journal_line(line)
                if why is not None:
                    return InvalidFileError(
                        f"The study storage {path}: line {number} is {why}; the "
                        "file is damaged or is not an Optuna journal. " + _WHAT_TO_DO,
                        path=path,
                        line=number,
                    )
    except OSError as err:
        return _bad(path, f"cannot be read ({err.strerror or err})")
    detail = f" ({type(exc).__name__}: {exc})" if exc is not None else ""
    return _bad(path, f"is not a readable Optuna journal{detail}")


def check_journal_file(path: Path) -> None:
    """Fail with :class:`~skmm.exceptions.InvalidFileError` when the file
    ``path`` (a Path) is not a usable journal file: a folder, unreadable, or
    its last line is cut short or not a journal entry (a missing or empty
    file is fine; damage elsewhere is found when Optuna reads the file)."""
    if not _is_file(path):
        return
    size = path.stat().st_size
    if size == 0:
        return
    for _ in range(10):  # another worker may be writing the last line now
        tail = _tail(path, size)
        if tail.endswith(b"\n"):
            break
        time.sleep(0.1)
        size = path.stat().st_size
    else:
        raise _journal_error(path)
    last = tail.rstrip(b"\n").rsplit(b"\n", 1)[-1]
    if last and _bad_journal_line(last) is not None:
        raise _journal_error(path)


def _tail(path: Path, size: int, n: int = 65536) -> bytes:
    try:
        with open(path, "rb") as f:
            f.seek(max(0, size - n))
            return f.read(n)
    except OSError as exc:
        raise _bad(path, f"cannot be read ({exc.strerror or exc})") from exc


@contextlib.contextmanager
def storage_errors(path: Path | None) -> Iterator[None]:
    """Turn a database error on the SQLite file ``path`` into
    :class:`~skmm.exceptions.InvalidFileError` naming the file.

    Parameters
    ----------
    path : Path or None
        The storage file (``None``: nothing is translated).
    """
    if path is None:
        yield
        return
    try:
        yield
    except InvalidFileError:
        raise
    except Exception as exc:
        if not _is_database_error(exc):
            raise
        if path.suffix in (".journal", ".log"):
            raise _journal_error(path, exc) from exc
        raise _bad(path, f"cannot be used as a study database ({exc})") from exc


def _is_database_error(exc: BaseException) -> bool:
    """An error of the file itself (not a lock, a constraint, a busy disk)."""
    if isinstance(exc, json.JSONDecodeError):
        return True
    orig = getattr(exc, "orig", exc)  # sqlalchemy wraps the driver's error
    if not isinstance(orig, sqlite3.DatabaseError):
        return False
    text = str(orig).lower()
    if any(s in text for s in ("not a database", "malformed", "unable to open")):
        return True
    return not isinstance(orig, (sqlite3.OperationalError, sqlite3.IntegrityError))
