"""Reading one audio cell: a file path, file bytes, or a waveform."""

from __future__ import annotations

import math
import numbers
import os
from pathlib import Path
from typing import Any

import numpy as np

from skmm.base._cells import short_repr
from skmm.base._files import file_source

__all__ = [
    "audio_item_key",
    "describe_audio_item",
    "estimate_duration",
    "load_audio",
    "resample",
]

_CELL_KINDS = (
    "a path (str or os.PathLike) to a wav/flac/ogg/mp3 file, the bytes of such "
    "a file, a 1-D float waveform (numpy array or list), or a (waveform, "
    "sampling_rate) tuple"
)

# integer PCM dtypes and the value that maps to full scale (what soundfile does)
_PCM_SCALE = {np.dtype(np.int16): 2.0**15, np.dtype(np.int32): 2.0**31}
_WAVE_DTYPES = "float samples (or int16 / int32 PCM)"
# larger reduced up/down factors resample by FFT, not with a polyphase filter
_MAX_POLYPHASE_FACTOR = 4096
_F32_MAX = float(np.finfo(np.float32).max)


def _check_rate(rate: Any, what: str) -> int:
    """A sampling rate as a positive int (an integral float is accepted)."""
    if isinstance(rate, bool) or not isinstance(rate, numbers.Real):
        raise TypeError(f"{what} must be a positive integer (Hz); got {rate!r}")
    if isinstance(rate, numbers.Integral):
        value = int(rate)
    elif not math.isfinite(float(rate)) or float(rate) != int(rate):
        raise ValueError(f"{what} must be a positive integer (Hz); got {rate!r}")
    else:
        value = int(rate)
    if value <= 0:
        raise ValueError(f"{what} must be a positive integer (Hz); got {rate!r}")
    return value


def resample(wave: np.ndarray, orig_rate: int, target_rate: int) -> np.ndarray:
    """Resample along the last axis with a polyphase filter.

    Uses :func:`scipy.signal.resample_poly` with the up/down factors reduced
    by their greatest common divisor, so 44.1 kHz -> 16 kHz is 160/441.  A
    ratio whose reduced factors exceed 4096 (44101 Hz -> 16 kHz) would need
    a filter of ``20 * max(up, down)`` taps; it is resampled in the frequency
    domain instead (:func:`scipy.signal.resample`), to as many samples.

    Parameters
    ----------
    wave : ndarray
        Samples along the last axis.
    orig_rate, target_rate : int
        Sampling rates in Hz.

    Returns
    -------
    ndarray, float32

    Examples
    --------
    >>> resample(np.zeros(44100, dtype=np.float32), 44100, 16000).shape
    (16000,)
    """
    orig_rate, target_rate = int(orig_rate), int(target_rate)
    if orig_rate == target_rate:
        return np.asarray(wave, dtype=np.float32)
    g = math.gcd(orig_rate, target_rate)
    up, down = target_rate // g, orig_rate // g
    x = np.asarray(wave, dtype=np.float64)
    if max(up, down) > _MAX_POLYPHASE_FACTOR:
        # an odd ratio (44101 Hz, 2**31 - 1 Hz): the polyphase filter would
        # have 20 * max(up, down) taps (hundreds of GiB), so resample in the
        # frequency domain, to as many samples as resample_poly gives
        from scipy.signal import resample as fft_resample

        n_out = max(1, -(-x.shape[-1] * target_rate // orig_rate))
        out = fft_resample(x, n_out, axis=-1)
    else:
        from scipy.signal import resample_poly

        out = resample_poly(x, up, down, axis=-1)
    return out.astype(np.float32)


def _read_file(source: Any, label: str) -> tuple[np.ndarray, int]:
    """Read a file (path or file-like) with soundfile: (channels, samples)."""
    import soundfile as sf

    try:
        data, rate = sf.read(source, dtype="float32", always_2d=True)
    except (RuntimeError, TypeError) as exc:  # LibsndfileError is a RuntimeError
        detail = str(exc).split(": ")[-1].strip() or type(exc).__name__
        raise ValueError(
            f"{label} is not a readable audio file (libsndfile: {detail}); "
            "supported formats include wav, flac, ogg and mp3"
        ) from exc
    return data.T, int(rate)


def _as_wave_array(wave: Any) -> np.ndarray:
    """A waveform cell as a float array, rejecting non-numeric content."""
    if isinstance(wave, np.ndarray):
        arr = wave
    elif isinstance(wave, (list, tuple)):
        # numpy would flatten 0-d arrays into samples: (16000, np.array(0.5))
        # is a (rate, waveform) mix-up, not two samples
        if any(isinstance(v, np.ndarray) for v in wave):
            raise TypeError(
                "a waveform list must hold numbers only (samples), not arrays; "
                "a (waveform, rate) cell has the waveform first"
            )
        try:
            arr = np.asarray(wave, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise TypeError("a waveform list must hold numbers only (samples)") from exc
    else:
        raise TypeError(f"expected {_CELL_KINDS}; got {type(wave).__name__}")
    if arr.dtype == object:
        try:
            arr = arr.astype(np.float64)
        except (TypeError, ValueError) as exc:
            raise TypeError(
                "a waveform must hold float samples; got an object array whose "
                "elements are not all numbers"
            ) from exc
    if arr.dtype in _PCM_SCALE:
        return arr.astype(np.float64) / _PCM_SCALE[arr.dtype]
    if arr.dtype.kind == "c":
        raise TypeError("a waveform must hold real samples; got complex values")
    if arr.dtype.kind != "f":
        hint = ""
        if arr.dtype.kind in "iu":
            # which value is full scale is a guess: refuse rather than guess
            hint = " (scale it to floats in [-1, 1] first)"
        raise TypeError(
            f"a waveform array must hold {_WAVE_DTYPES}; got dtype {arr.dtype}{hint}"
        )
    return arr.astype(np.float64, copy=False)


def load_audio(
    cell: Any,
    *,
    sampling_rate: int,
    input_rate: int | None = None,
    mono: bool = True,
) -> np.ndarray:
    """Read one audio cell as float32 samples at ``sampling_rate``.

    Parameters
    ----------
    cell : str, os.PathLike, bytes, array-like or tuple
        A path to an audio file (anything libsndfile reads: wav, flac, ogg,
        mp3, ...), the bytes of such a file, a 1-D float waveform (numpy
        array or list of samples, assumed at ``input_rate``), or a tuple
        ``(waveform, rate)``.  ``int16`` / ``int32`` arrays are read as PCM
        and scaled to [-1, 1); arrays of other integer dtypes, or of bools,
        are refused (which value is full scale would be a guess).
    sampling_rate : int
        The rate of the returned samples, in Hz.
    input_rate : int or None, default=None
        The rate of bare waveform cells; ``None`` means ``sampling_rate``.
        Files and ``(waveform, rate)`` tuples carry their own rate.
    mono : bool, default=True
        Average the channels of a multi-channel file.  With ``False`` the
        result is 2-D, ``(n_channels, n_samples)``.

    Returns
    -------
    ndarray of float32
        Shape ``(n_samples,)`` (or ``(n_channels, n_samples)`` with
        ``mono=False``).

    Raises
    ------
    FileNotFoundError
        For a path that does not exist.
    IsADirectoryError
        For a path that is a directory.
    ValueError
        For a file that is not audio, an empty waveform, NaN or infinite
        samples, samples too large for float32, or a 2-D array cell.
    TypeError
        For a cell of another kind, or a waveform array of another dtype
        than float, int16 or int32.

    Examples
    --------
    >>> wave = np.sin(np.linspace(0, 100, 8000))
    >>> load_audio(wave, sampling_rate=16000, input_rate=8000).shape
    (16000,)
    >>> load_audio((wave, 8000), sampling_rate=8000).dtype
    dtype('float32')
    >>> load_audio(np.zeros((2, 10)), sampling_rate=16000)
    Traceback (most recent call last):
    ...
    ValueError: a waveform cell must be 1-D (n_samples,); got an array of shape ...
    """
    target = _check_rate(sampling_rate, "sampling_rate")
    opened = file_source(cell, "audio")
    if opened is not None:
        data, rate = _read_file(*opened)
    else:
        if isinstance(cell, tuple) and len(cell) == 2:
            # always (waveform, rate): two samples in a tuple would be a guess
            wave, rate = cell
            if isinstance(wave, numbers.Number) and not isinstance(
                rate, numbers.Number
            ):
                raise TypeError(
                    "a (waveform, rate) cell has the waveform first; got "
                    f"({wave!r}, {type(rate).__name__}): swap them"
                )
            rate = _check_rate(rate, "the rate of a (waveform, rate) cell")
            if isinstance(wave, (str, bytes, os.PathLike)):
                raise TypeError(
                    "a (waveform, rate) cell needs a waveform, not a path or "
                    "bytes (files carry their own rate: pass the path alone)"
                )
        elif isinstance(cell, tuple):
            raise TypeError(
                f"a tuple cell must be (waveform, rate); got a tuple of {len(cell)} "
                "(pass samples as a list or a numpy array)"
            )
        else:
            wave = cell
            rate = _check_rate(
                target if input_rate is None else input_rate, "input_rate"
            )
        arr = _as_wave_array(wave)
        if arr.ndim != 1:
            raise ValueError(
                "a waveform cell must be 1-D (n_samples,); got an array of shape "
                f"{arr.shape}. Mix channels first, e.g. wave.mean(axis=...)."
            )
        data = arr[None, :]
    if data.shape[-1] == 0:
        raise ValueError("empty waveform (0 samples)")
    if not np.isfinite(data).all():
        n_bad = int((~np.isfinite(data)).sum())
        raise ValueError(f"the waveform has {n_bad} NaN or infinite sample(s)")
    peak = float(np.abs(data).max())
    if mono:
        data = data.mean(axis=0)
    with np.errstate(over="ignore", invalid="ignore"):
        # the resampling filter may overshoot a peak near float32's limit
        out = resample(data, rate, target)
    if peak > _F32_MAX or not np.isfinite(out).all():
        raise ValueError(
            f"the waveform's samples (peak |x| = {peak:.3g}) overflow float32; "
            "scale it to [-1, 1] first"
        )
    return out


def audio_item_key(item: Any) -> Any:
    """The de-duplication key of an audio cell (content based).

    A ``str`` path becomes a :class:`~pathlib.Path`, so the key covers the
    file's resolved path, size and modification time; lists become arrays.
    A cell that cannot be hashed gets a key of its own (it fails later, in
    reading, with a clear message).
    """
    from skmm.utils._hashing import hash_item

    def convert(part: Any) -> Any:
        if isinstance(part, str):
            return Path(part)
        if isinstance(part, list):
            return np.asarray(part, dtype=np.float64)
        if isinstance(part, tuple):
            return tuple(convert(p) for p in part)
        return part

    try:
        return hash_item(convert(item))
    except Exception:
        # a key of its own, never cached (skmm.base._cells' "__unkeyed__" marker)
        return ("__unkeyed__", id(item))


def estimate_duration(cell: Any, *, default_rate: int) -> float:
    """A cheap guess of a cell's duration in seconds (0.0 when unknown).

    Reads only file headers; used to order clips into batches of similar
    length.

    Examples
    --------
    >>> estimate_duration(np.zeros(8000), default_rate=16000)
    0.5
    >>> estimate_duration((np.zeros(8000), 8000), default_rate=16000)
    1.0
    """
    try:
        if isinstance(cell, (str, os.PathLike)):
            import soundfile as sf

            return float(sf.info(os.fspath(cell)).duration)
        if isinstance(cell, tuple) and len(cell) == 2:
            return len(cell[0]) / float(cell[1])
        if isinstance(cell, (np.ndarray, list)):
            return len(cell) / float(default_rate)
    except Exception:
        pass
    return 0.0


def describe_audio_item(item: Any) -> str:
    """A short description of a cell for error messages (paths in full)."""
    if isinstance(item, (str, os.PathLike)):
        return f"path {os.fspath(item)!r}"
    if isinstance(item, np.ndarray):
        return f"waveform {short_repr(item)}"
    if isinstance(item, memoryview):
        return f"bytes(len={len(item)})"
    if isinstance(item, list):
        return f"waveform list(len={len(item)})"
    if isinstance(item, tuple) and len(item) == 2:
        return f"({describe_audio_item(item[0])}, rate={item[1]!r})"
    return short_repr(item)
