"""Spectral features in numpy/scipy: STFT power, mel filterbank, log-mel, MFCC.

The definitions follow librosa's defaults (periodic Hann window, centred
frames with zero padding, Slaney mel scale and area normalisation, DCT-II
with orthonormal scaling), so the numbers agree with ``librosa.feature``
without depending on it.
"""

from __future__ import annotations

import warnings

import numpy as np

__all__ = [
    "delta",
    "hz_to_mel",
    "log_mel_spectrogram",
    "mel_filterbank",
    "mel_frequencies",
    "mel_to_hz",
    "mfcc",
    "pool_time",
    "power_spectrogram",
    "power_to_db",
]

# Slaney's Auditory Toolbox mel scale: linear below 1 kHz, logarithmic above.
_F_SP = 200.0 / 3
_MIN_LOG_HZ = 1000.0
_MIN_LOG_MEL = _MIN_LOG_HZ / _F_SP
_LOGSTEP = np.log(6.4) / 27.0


def hz_to_mel(freqs, *, htk: bool = False):
    """Hz to mels (Slaney scale by default, HTK's ``2595 log10(1 + f/700)``
    with ``htk=True``).

    Examples
    --------
    >>> float(hz_to_mel(1000.0))
    15.0
    """
    freqs = np.asarray(freqs, dtype=np.float64)
    if htk:
        return 2595.0 * np.log10(1.0 + freqs / 700.0)
    mels = freqs / _F_SP
    log_part = freqs >= _MIN_LOG_HZ
    safe = np.where(log_part, freqs, _MIN_LOG_HZ)
    log_mels = _MIN_LOG_MEL + np.log(safe / _MIN_LOG_HZ) / _LOGSTEP
    return np.where(log_part, log_mels, mels)


def mel_to_hz(mels, *, htk: bool = False):
    """Mels to Hz, the inverse of :func:`hz_to_mel`.

    Examples
    --------
    >>> float(mel_to_hz(hz_to_mel(3000.0)))
    3000.0
    """
    mels = np.asarray(mels, dtype=np.float64)
    if htk:
        return 700.0 * (10.0 ** (mels / 2595.0) - 1.0)
    freqs = _F_SP * mels
    log_part = mels >= _MIN_LOG_MEL
    return np.where(
        log_part, _MIN_LOG_HZ * np.exp(_LOGSTEP * (mels - _MIN_LOG_MEL)), freqs
    )


def mel_frequencies(
    n_mels: int, *, fmin: float = 0.0, fmax: float = 11025.0, htk: bool = False
) -> np.ndarray:
    """``n_mels`` frequencies (Hz) evenly spaced on the mel scale.

    Examples
    --------
    >>> mel_frequencies(3, fmin=0.0, fmax=8000.0).round(1).tolist()
    [0.0, 1688.9, 8000.0]
    """
    mels = np.linspace(hz_to_mel(fmin, htk=htk), hz_to_mel(fmax, htk=htk), n_mels)
    return mel_to_hz(mels, htk=htk)


def mel_filterbank(
    sampling_rate: int,
    n_fft: int,
    *,
    n_mels: int = 128,
    fmin: float = 0.0,
    fmax: float | None = None,
    htk: bool = False,
    norm: str | None = "slaney",
) -> np.ndarray:
    """Triangular mel filters, shape ``(n_mels, 1 + n_fft // 2)``.

    Like ``librosa.filters.mel``: triangles between consecutive mel
    frequencies, with ``norm="slaney"`` dividing each by its width in Hz
    (``2 / (f[i+2] - f[i])``) so every filter has unit area.

    Parameters
    ----------
    sampling_rate : int
        Sampling rate in Hz.
    n_fft : int
        FFT size.
    n_mels : int, default=128
        Number of filters.
    fmin, fmax : float, default=0 and sampling_rate / 2
        Frequency range in Hz.
    htk : bool, default=False
        HTK mel scale instead of Slaney's.
    norm : {"slaney", None}, default="slaney"
        Area normalisation, or none (peaks of 1).

    Returns
    -------
    ndarray of float32, shape (n_mels, 1 + n_fft // 2)

    Examples
    --------
    >>> fb = mel_filterbank(16000, 512, n_mels=40)
    >>> fb.shape
    (40, 257)
    >>> bool((fb >= 0).all())
    True
    """
    if fmax is None:
        fmax = sampling_rate / 2.0
    fftfreqs = np.fft.rfftfreq(n_fft, d=1.0 / sampling_rate)
    mel_f = mel_frequencies(n_mels + 2, fmin=fmin, fmax=fmax, htk=htk)
    fdiff = np.diff(mel_f)
    ramps = mel_f[:, None] - fftfreqs[None, :]
    lower = -ramps[:-2] / fdiff[:-1, None]
    upper = ramps[2:] / fdiff[1:, None]
    weights = np.maximum(0.0, np.minimum(lower, upper))
    if norm == "slaney":
        weights *= (2.0 / (mel_f[2 : n_mels + 2] - mel_f[:n_mels]))[:, None]
    elif norm is not None:
        raise ValueError(f"norm must be 'slaney' or None; got {norm!r}")
    empty = int((weights.max(axis=1) == 0).sum())
    if empty:
        warnings.warn(
            f"{empty} of {n_mels} mel filters are empty (all zero): n_mels="
            f"{n_mels} is too many for n_fft={n_fft} at {sampling_rate} Hz; "
            "lower n_mels or raise n_fft.",
            UserWarning,
            stacklevel=2,
        )
    return weights.astype(np.float32)


def _hann(n: int) -> np.ndarray:
    # periodic Hann (scipy.signal.get_window("hann", n, fftbins=True))
    return 0.5 - 0.5 * np.cos(2.0 * np.pi * np.arange(n) / n)


def power_spectrogram(
    wave: np.ndarray,
    *,
    n_fft: int = 2048,
    hop_length: int | None = None,
    center: bool = True,
) -> np.ndarray:
    """``|STFT|**2`` with a periodic Hann window, shape ``(1 + n_fft // 2, T)``.

    With ``center=True`` the signal is zero-padded by ``n_fft // 2`` on each
    side (librosa's default ``pad_mode="constant"``), so frame ``t`` is
    centred on sample ``t * hop_length``.  A signal shorter than one frame
    is zero-padded to one frame.

    Examples
    --------
    >>> power_spectrogram(np.ones(1600), n_fft=400, hop_length=160).shape
    (201, 11)
    """
    hop_length = n_fft // 4 if hop_length is None else hop_length
    x = np.asarray(wave, dtype=np.float64)
    if center:
        x = np.pad(x, (n_fft // 2, n_fft // 2))
    if x.shape[-1] < n_fft:
        x = np.pad(x, (0, n_fft - x.shape[-1]))
    frames = np.lib.stride_tricks.sliding_window_view(x, n_fft)[::hop_length]
    spec = np.fft.rfft(frames * _hann(n_fft), axis=-1)
    return (spec.real**2 + spec.imag**2).T


def power_to_db(
    spec: np.ndarray, *, amin: float = 1e-10, top_db: float | None = None
) -> np.ndarray:
    """``10 * log10(max(spec, amin))``, optionally floored at ``max - top_db``.

    Examples
    --------
    >>> power_to_db(np.array([1.0, 0.1, 0.0])).tolist()
    [0.0, -10.0, -100.0]
    >>> power_to_db(np.array([1.0, 0.0]), top_db=80.0).tolist()
    [0.0, -80.0]
    """
    db = 10.0 * np.log10(np.maximum(spec, amin))
    if top_db is not None:
        db = np.maximum(db, db.max() - top_db)
    return db


def log_mel_spectrogram(
    wave: np.ndarray,
    sampling_rate: int,
    *,
    n_fft: int = 2048,
    hop_length: int | None = None,
    n_mels: int = 128,
    fmin: float = 0.0,
    fmax: float | None = None,
    top_db: float | None = 80.0,
    filterbank: np.ndarray | None = None,
) -> np.ndarray:
    """Log-power mel spectrogram in dB, shape ``(n_mels, T)``.

    ``power_to_db(mel_filterbank @ power_spectrogram(wave))``, the same as
    ``librosa.power_to_db(librosa.feature.melspectrogram(...), top_db=...)``.
    Pass a precomputed ``filterbank`` to skip building it.

    Examples
    --------
    >>> wave = np.sin(2 * np.pi * 440 * np.arange(16000) / 16000)
    >>> log_mel_spectrogram(wave, 16000, n_fft=512, hop_length=160, n_mels=40).shape
    (40, 101)
    """
    if filterbank is None:
        filterbank = mel_filterbank(
            sampling_rate, n_fft, n_mels=n_mels, fmin=fmin, fmax=fmax
        )
    power = power_spectrogram(wave, n_fft=n_fft, hop_length=hop_length)
    return power_to_db(filterbank.astype(np.float64) @ power, top_db=top_db)


def mfcc(
    wave: np.ndarray | None = None,
    sampling_rate: int = 22050,
    *,
    log_mel: np.ndarray | None = None,
    n_mfcc: int = 20,
    n_fft: int = 2048,
    hop_length: int | None = None,
    n_mels: int = 128,
    fmin: float = 0.0,
    fmax: float | None = None,
    top_db: float | None = 80.0,
) -> np.ndarray:
    """Mel-frequency cepstral coefficients, shape ``(n_mfcc, T)``.

    The orthonormal DCT-II of the log-mel spectrogram along the mel axis,
    keeping the first ``n_mfcc`` coefficients — ``librosa.feature.mfcc``
    with its defaults.  Give either ``wave`` or a precomputed ``log_mel``.

    Examples
    --------
    >>> wave = np.random.default_rng(0).normal(size=8000)
    >>> mfcc(wave, 16000, n_fft=512, hop_length=160, n_mels=40).shape
    (20, 51)
    """
    from scipy.fft import dct

    if log_mel is None:
        if wave is None:
            raise ValueError("give a waveform or a log-mel spectrogram")
        log_mel = log_mel_spectrogram(
            wave,
            sampling_rate,
            n_fft=n_fft,
            hop_length=hop_length,
            n_mels=n_mels,
            fmin=fmin,
            fmax=fmax,
            top_db=top_db,
        )
    return dct(log_mel, type=2, axis=-2, norm="ortho")[..., :n_mfcc, :]


def delta(features: np.ndarray, *, order: int = 1, width: int = 9) -> np.ndarray:
    """Local time derivative (Savitzky-Golay), like ``librosa.feature.delta``.

    Sequences shorter than ``width`` frames use a shorter odd window (and
    ``mode="nearest"`` below 3 frames), so short clips still get deltas.

    Examples
    --------
    >>> delta(np.arange(20.0)[None, :]).round(6)[0, :3].tolist()
    [1.0, 1.0, 1.0]
    """
    from scipy.signal import savgol_filter

    n = features.shape[-1]
    w = min(width, n if n % 2 else n - 1)
    if w < 3:
        return np.zeros_like(features, dtype=np.float64)
    return savgol_filter(
        features, w, polyorder=order, deriv=order, axis=-1, mode="interp"
    )


def pool_time(features: np.ndarray, pooling: str, n_frames: int = 32) -> np.ndarray:
    """Summarise a ``(D, T)`` feature sequence as a fixed-length vector.

    - ``"meanstd"``: mean then standard deviation over time (``2 * D``);
    - ``"mean"``: mean over time (``D``);
    - ``"frames"``: the time axis brought to ``n_frames`` steps and flattened
      frame by frame (``n_frames * D``; index ``t * D + d``).  A longer
      sequence is averaged over ``n_frames`` equal segments; a shorter one is
      linearly interpolated at the segment centres (so every clip, short or
      long, maps its start to frame 0 and its end to the last frame).

    Examples
    --------
    >>> seq = np.arange(12.0).reshape(2, 6)
    >>> pool_time(seq, "mean").tolist()
    [2.5, 8.5]
    >>> pool_time(seq, "frames", n_frames=3).tolist()
    [0.5, 6.5, 2.5, 8.5, 4.5, 10.5]
    """
    if pooling == "mean":
        return features.mean(axis=1)
    if pooling == "meanstd":
        return np.concatenate([features.mean(axis=1), features.std(axis=1)])
    if pooling != "frames":
        raise ValueError(f"unknown pooling {pooling!r}")
    n_steps = features.shape[1]
    if n_steps >= n_frames:
        edges = np.round(np.linspace(0, n_steps, n_frames + 1)).astype(np.int64)
        sums = np.add.reduceat(features, edges[:-1], axis=1)
        pooled = sums / np.diff(edges)[None, :]
    else:
        centres = (np.arange(n_frames) + 0.5) * n_steps / n_frames - 0.5
        src = np.arange(n_steps)
        pooled = np.stack([np.interp(centres, src, row) for row in features])
    return pooled.T.reshape(-1)
