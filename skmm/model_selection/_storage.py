"""Where a search's study lives: in memory, a file beside the user's work, or
a database shared by workers on several machines."""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Any

__all__ = [
    "DEFAULT_JOURNAL",
    "DEFAULT_SQLITE",
    "absolute_storage",
    "describe_storage",
    "make_storage",
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
            from optuna.storages.journal import JournalFileBackend

            return optuna.storages.JournalStorage(JournalFileBackend(str(path)))
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

    # heartbeats: a killed worker's trial is failed (not left running) on resume
    kwargs: dict[str, Any] = {"heartbeat_interval": 30, "grace_period": 90}
    if url.startswith("sqlite"):
        kwargs["engine_kwargs"] = {"connect_args": {"timeout": 60}}
    else:
        kwargs["engine_kwargs"] = {"pool_pre_ping": True}
    try:
        with warnings.catch_warnings():
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
