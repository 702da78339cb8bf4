"""What identifies an encoder's output: the cache namespace."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import joblib

__all__ = ["NON_OUTPUT_PARAMS", "encoder_fingerprint", "hash_path_content"]

# Parameters that change how fast, where, or how loudly an encoder runs, but
# not the numbers it returns.
NON_OUTPUT_PARAMS = frozenset(
    {"batch_size", "verbose", "on_error", "cache", "device", "pickle_weights", "n_jobs"}
)
# Fitted attributes that do not change per-item output.
_NON_OUTPUT_FITTED = frozenset({"n_features_in_", "feature_names_in_", "model_path_"})

_PATH_HASHES: dict[tuple, str] = {}


def hash_path_content(path: str | os.PathLike) -> str:
    """Content hash of a weights file or a model folder (memoised per mtime).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp()); _ = (d / "w.bin").write_bytes(b"1")
    >>> len(hash_path_content(d))
    32
    """
    p = Path(path)
    files = sorted(f for f in p.rglob("*") if f.is_file()) if p.is_dir() else [p]
    stamp = tuple((str(f), f.stat().st_size, f.stat().st_mtime_ns) for f in files)
    cached = _PATH_HASHES.get(stamp)
    if cached is not None:
        return cached
    h = hashlib.blake2b(digest_size=16)
    for f in files:
        h.update(str(f.relative_to(p) if p.is_dir() else f.name).encode())
        with open(f, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
    digest = h.hexdigest()
    _PATH_HASHES[stamp] = digest
    return digest


def _normalise(value: Any) -> Any:
    if isinstance(value, os.PathLike):
        return str(value)
    return value


def encoder_fingerprint(encoder: Any) -> tuple[str, dict]:
    """``(namespace, description)`` for a fitted encoder.

    The namespace hashes the class, the output-changing parameters, the
    fitted state, the model identity (``_cache_identity()``) and skmm's
    version.
    """
    import skmm

    cls = type(encoder)
    params = {
        k: _normalise(v)
        for k, v in encoder.get_params(deep=False).items()
        if k not in NON_OUTPUT_PARAMS
    }
    if hasattr(encoder, "_cache_state"):
        fitted = encoder._cache_state()
    else:
        fitted = {
            k: v
            for k, v in vars(encoder).items()
            if k.endswith("_") and not k.startswith("_") and k not in _NON_OUTPUT_FITTED
        }
    identity = encoder._cache_identity() if hasattr(encoder, "_cache_identity") else ""
    digest = joblib.hash(
        [cls.__module__, cls.__qualname__, params, fitted, identity, skmm.__version__]
    )
    desc = {
        "encoder": f"{cls.__module__}.{cls.__qualname__}",
        "params": {k: repr(v) for k, v in params.items()},
        "model": identity,
        "skmm": skmm.__version__,
    }
    return digest, desc
