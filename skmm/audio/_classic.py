"""Classic audio features: MFCC and log-mel statistics (no weights)."""

from __future__ import annotations

import numbers
from typing import Any, ClassVar

import numpy as np

from skmm.audio._common import _AudioEncoderBase
from skmm.audio._features import delta, mel_filterbank, mfcc, pool_time, power_to_db
from skmm.audio._features import power_spectrogram as _power_spectrogram
from skmm.base._docs import encoder_docs
from skmm.base._params import EncoderParams
from skmm.base._test_params import CheapParamsMixin
from skmm.utils._docs import fill_doc
from skmm.utils._params import estimator_init, param_group
from skmm.utils._sklearn_compat import Interval, StrOptions

__all__ = ["LogMelEncoder", "MFCCEncoder"]

_POOLING_WIDTH = {"meanstd": 2, "mean": 1}

# the docstring entries of the parameters both encoders share, and their
# Attributes section (n_mels and top_db read differently in each, so each
# writes its own)
_SPECTRAL_DOCS = {
    **encoder_docs("audio"),
    "sampling_rate": """\
sampling_rate : int, default=16000
    Rate (Hz) the clips are resampled to before analysis.""",
    "spectrogram": """\
n_fft : int, default=512
    FFT size (and Hann window length) in samples.
hop_length : int, default=160
    Samples between frames (10 ms at 16 kHz).
fmin : float, default=0.0
    Lowest frequency of the mel filters (Hz).
fmax : float or None, default=None
    Highest frequency; ``None`` is ``sampling_rate / 2``.""",
    "pooling": """\
pooling : {"meanstd", "mean", "frames"}, default="meanstd"
    Summary over time: mean and standard deviation concatenated, the
    mean alone, or the sequence brought to ``n_frames`` steps (average
    pooling over equal segments; shorter clips interpolated) and
    flattened frame by frame.
n_frames : int, default=32
    Steps kept by ``pooling="frames"``.""",
    "reading": """\
input_rate : int or None, default=None
    Rate of bare waveform cells; ``None`` means ``sampling_rate``.
    Files and ``(waveform, rate)`` cells carry their own rate.
batch_size : int, default=64
    Clips per batch.
{encoder_params}""",
    "attributes": """\
Attributes
----------
n_features_out_ : int
    Output width per input column.
filterbank_ : ndarray of shape (n_mels, 1 + n_fft // 2)
    The mel filterbank in use.
{input_attributes}
{feature_names_in_}""",
}


@param_group
class _SpectralEncoderBase(CheapParamsMixin, _AudioEncoderBase, EncoderParams):
    """Shared parameters and the log-mel front end of the classic encoders."""

    sampling_rate: int = 16000
    n_mels: int = 64
    n_fft: int = 512
    hop_length: int = 160
    fmin: float = 0.0
    fmax: float | None = None
    top_db: float | None = 80.0
    pooling: str = "meanstd"
    n_frames: int = 32
    input_rate: int | None = None
    batch_size: int = 64

    _parameter_constraints: ClassVar[dict] = {
        **_AudioEncoderBase._parameter_constraints,
        "sampling_rate": [Interval(numbers.Integral, 1, None, closed="left")],
        "n_mels": [Interval(numbers.Integral, 1, None, closed="left")],
        "n_fft": [Interval(numbers.Integral, 2, None, closed="left")],
        "hop_length": [Interval(numbers.Integral, 1, None, closed="left")],
        "fmin": [Interval(numbers.Real, 0, None, closed="left")],
        "fmax": [Interval(numbers.Real, 0, None, closed="neither"), None],
        "top_db": [Interval(numbers.Real, 0, None, closed="neither"), None],
        "pooling": [StrOptions({"meanstd", "mean", "frames"})],
        "n_frames": [Interval(numbers.Integral, 1, None, closed="left")],
    }

    def _target_rate(self) -> int:
        return self.sampling_rate

    def _frame_width(self) -> int:  # pragma: no cover - abstract
        raise NotImplementedError

    def _fit_encoder(self, prepared: list | None) -> None:
        nyquist = self.sampling_rate / 2.0
        fmax = nyquist if self.fmax is None else float(self.fmax)
        if fmax > nyquist:
            raise ValueError(
                f"fmax={self.fmax} is above the Nyquist frequency ({nyquist:g} Hz) "
                f"of sampling_rate={self.sampling_rate}."
            )
        if self.fmin >= fmax:
            raise ValueError(f"fmin={self.fmin} must be below fmax={fmax:g}.")
        self.filterbank_ = mel_filterbank(
            self.sampling_rate,
            self.n_fft,
            n_mels=self.n_mels,
            fmin=self.fmin,
            fmax=fmax,
        )
        d = self._frame_width()
        if self.pooling == "frames":
            self.n_features_out_ = self.n_frames * d
        else:
            self.n_features_out_ = _POOLING_WIDTH[self.pooling] * d

    def _log_mel(self, wave: np.ndarray) -> np.ndarray:
        power = _power_spectrogram(wave, n_fft=self.n_fft, hop_length=self.hop_length)
        mel = self.filterbank_.astype(np.float64) @ power
        return power_to_db(mel, top_db=self.top_db)

    def _frame_features(self, wave: np.ndarray) -> np.ndarray:  # pragma: no cover
        raise NotImplementedError

    def _encode_batch(self, prepared: list) -> np.ndarray:
        return np.stack(
            [
                pool_time(self._frame_features(w), self.pooling, self.n_frames)
                for w in prepared
            ]
        )


@fill_doc(_SPECTRAL_DOCS)
@estimator_init
class MFCCEncoder(_SpectralEncoderBase):
    """Mel-frequency cepstral coefficients pooled over time.

    Each clip is read (and resampled) at ``sampling_rate``, turned into
    ``n_mfcc`` MFCCs per frame (librosa's definition: orthonormal DCT-II of
    the log-mel spectrogram; optionally with first and second deltas), and
    the frames are summarised as one fixed-length vector.  Needs no weights;
    missing cells give rows of NaN.

    Output width per input column: ``D = n_mfcc * (3 if deltas else 1)``
    coefficients per frame, times 2 for ``pooling="meanstd"`` (means, then
    standard deviations), 1 for ``"mean"``, ``n_frames`` for ``"frames"``.

    Parameters
    ----------
    n_mfcc : int, default=20
        Coefficients per frame (at most ``n_mels``).
    deltas : bool, default=False
        Append first- and second-order deltas to each frame.
    {sampling_rate}
    n_mels : int, default=64
        Mel bands of the underlying log-mel spectrogram.
    {spectrogram}
    top_db : float or None, default=80.0
        Floor the log-mel spectrogram at ``max - top_db`` dB per clip (as
        ``librosa.feature.mfcc`` does); ``None`` keeps the full range.
    {pooling}
    {reading}

    {attributes}

    See Also
    --------
    LogMelEncoder : the log-mel bands themselves.

    Examples
    --------
    >>> import numpy as np
    >>> from skmm.audio import MFCCEncoder
    >>> t = np.arange(8000) / 16000
    >>> clips = [np.sin(2 * np.pi * 440 * t), None, (np.sin(2 * np.pi * 440 * t), 8000)]
    >>> X = MFCCEncoder(verbose=0).fit_transform(clips)
    >>> X.shape
    (3, 40)
    >>> bool(np.isnan(X[1]).all())
    True
    >>> enc = MFCCEncoder(pooling="frames", n_frames=4, deltas=True)
    >>> enc.fit(clips).n_features_out_
    240
    """

    _parameter_constraints: ClassVar[dict] = {
        **_SpectralEncoderBase._parameter_constraints,
        "n_mfcc": [Interval(numbers.Integral, 1, None, closed="left")],
        "deltas": ["boolean"],
    }

    _test_params: ClassVar[tuple[dict[str, Any], ...]] = (
        {"n_mfcc": 8, "n_mels": 16, "n_fft": 128, "hop_length": 64, "verbose": 0},
        {
            "n_mfcc": 4,
            "n_mels": 8,
            "n_fft": 64,
            "hop_length": 32,
            "pooling": "frames",
            "n_frames": 3,
            "deltas": True,
            "verbose": 0,
        },
    )

    n_mfcc: int = 20
    deltas: bool = False

    def _frame_width(self) -> int:
        if self.n_mfcc > self.n_mels:
            raise ValueError(
                f"n_mfcc={self.n_mfcc} cannot exceed n_mels={self.n_mels}."
            )
        return self.n_mfcc * (3 if self.deltas else 1)

    def _frame_features(self, wave: np.ndarray) -> np.ndarray:
        coeffs = mfcc(log_mel=self._log_mel(wave), n_mfcc=self.n_mfcc)
        if self.deltas:
            coeffs = np.concatenate(
                [coeffs, delta(coeffs, order=1), delta(coeffs, order=2)]
            )
        return coeffs


@fill_doc(_SPECTRAL_DOCS)
@estimator_init
class LogMelEncoder(_SpectralEncoderBase):
    """Log-power mel spectrogram (dB) pooled over time.

    Each clip is read (and resampled) at ``sampling_rate``; the power
    spectrogram (periodic Hann window, centred frames) goes through a Slaney
    mel filterbank and ``10 * log10(max(S, 1e-10))``, floored at
    ``max - top_db``; the frames are summarised as one fixed-length vector.
    Needs no weights; missing cells give rows of NaN.

    Output width per input column: ``n_mels`` bands per frame, times 2 for
    ``pooling="meanstd"`` (means, then standard deviations), 1 for
    ``"mean"``, ``n_frames`` for ``"frames"``.

    Parameters
    ----------
    {sampling_rate}
    n_mels : int, default=64
        Mel bands.
    {spectrogram}
    top_db : float or None, default=80.0
        Floor at ``max - top_db`` dB per clip; ``None`` keeps the full
        range (down to -100 dB).
    {pooling}
    {reading}

    {attributes}

    See Also
    --------
    MFCCEncoder : the decorrelated (cepstral) version.

    Examples
    --------
    >>> import numpy as np
    >>> from skmm.audio import LogMelEncoder
    >>> noise = np.random.default_rng(0).normal(scale=0.1, size=16000)
    >>> enc = LogMelEncoder(n_mels=32, pooling="mean", verbose=0)
    >>> enc.fit_transform([noise, noise[:4000]]).shape
    (2, 32)
    """

    _test_params: ClassVar[tuple[dict[str, Any], ...]] = (
        {"n_mels": 16, "n_fft": 128, "hop_length": 64, "verbose": 0},
        {
            "n_mels": 8,
            "n_fft": 64,
            "hop_length": 32,
            "pooling": "frames",
            "n_frames": 3,
            "top_db": None,
            "verbose": 0,
        },
    )

    def _frame_width(self) -> int:
        return self.n_mels

    def _frame_features(self, wave: np.ndarray) -> np.ndarray:
        return self._log_mel(wave)
