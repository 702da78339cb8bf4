"""Speaker embeddings with Resemblyzer's pretrained voice encoder (GE2E)."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from skmm.audio._common import _AudioEncoderBase
from skmm.base._docs import encoder_docs
from skmm.base._params import PretrainedEncoderParams
from skmm.base._pretrained import PretrainedMixin
from skmm.base._test_params import CheapParamsMixin
from skmm.exceptions import MissingDependencyError
from skmm.utils._device import resolve_device
from skmm.utils._docs import fill_doc
from skmm.utils._imports import import_optional
from skmm.utils._params import estimator_init

__all__ = ["SpeakerEncoder"]

_RATE = 16000
_WIDTH = 256
# resemblyzer's VAD works on 30 ms windows; fewer voiced samples than one
# window means "no speech found"
_MIN_VOICED = 480


def _import_resemblyzer():
    try:
        with warnings.catch_warnings():
            # resemblyzer imports scipy.ndimage.morphology (deprecated alias)
            warnings.simplefilter("ignore", DeprecationWarning)
            return import_optional("resemblyzer", extra="resemblyzer")
    except MissingDependencyError as exc:
        if "pkg_resources" in str(exc):
            raise MissingDependencyError(
                f"{exc}. The 'webrtcvad' package that resemblyzer needs imports "
                "pkg_resources, which recent setuptools no longer ships; "
                "install the maintained fork instead: pip uninstall -y webrtcvad "
                "&& pip install webrtcvad-wheels"
            ) from exc
        raise


@fill_doc(encoder_docs("audio"))
@estimator_init
class SpeakerEncoder(
    CheapParamsMixin, PretrainedMixin, _AudioEncoderBase, PretrainedEncoderParams
):
    """Speaker embeddings (who is speaking) from Resemblyzer's voice encoder.

    Uses the ``resemblyzer`` package's pretrained ``VoiceEncoder`` (a 3-layer
    LSTM trained with the GE2E loss on VoxCeleb and LibriSpeech; the weights
    ship inside the package, so nothing is downloaded).  Each clip is read
    at 16 kHz, volume-normalised and, with ``trim_silence=True``, stripped of
    long silences by WebRTC voice activity detection (``preprocess_wav``);
    ``embed_utterance`` then averages the embeddings of 1.6 s windows.  The
    result is a 256-d, L2-normalised, non-negative vector: clips of the same
    voice have a high cosine similarity.  (A clip louder than full scale is
    scaled to a peak of 1 first: the voice activity detector reads 16-bit
    PCM.)

    Install with ``pip install "skmm[resemblyzer]"``.

    Output width per input column: 256.

    Parameters
    ----------
    trim_silence : bool, default=True
        Remove long silences with voice activity detection before
        embedding.  When no speech is detected at all, the untrimmed clip is
        embedded.
    input_rate : int or None, default=None
        Rate of bare waveform cells; ``None`` means 16 kHz.  Files and
        ``(waveform, rate)`` cells carry their own rate.
    batch_size : int, default=16
        Clips per batch.
    {device}
    {cache}
    on_error : {"raise", "nan"}, default="raise"
        What an unreadable (or entirely silent) cell does: raise an error
        naming the column, row and path, or become a NaN row (with a
        warning).
    {verbose}
    pickle_weights : bool, default=False
        Store the model inside the pickle (the ``resemblyzer`` package is
        still needed where it is unpickled: its preprocessing runs there).

    Attributes
    ----------
    sampling_rate_ : int
        16000, the voice encoder's rate.
    model_path_ : str
        The bundled weights file (its content identifies cached outputs).
    n_features_out_ : int
        256.
    {input_attributes}

    Notes
    -----
    ``get_test_params()`` returns ``[]``: the encoder needs the optional
    ``resemblyzer`` package.

    References
    ----------
    Wan, Wang, Papir, Lopez Moreno (2018). Generalized End-to-End Loss for
    Speaker Verification. ICASSP.

    Examples
    --------
    >>> from skmm.audio import SpeakerEncoder
    >>> enc = SpeakerEncoder(device="cpu", verbose=0)
    >>> X = enc.fit_transform(["alice.wav", "bob.wav"])  # doctest: +SKIP
    >>> X.shape  # doctest: +SKIP
    (2, 256)
    """

    _parameter_constraints: ClassVar[dict] = {
        **_AudioEncoderBase._parameter_constraints,
        "trim_silence": ["boolean"],
    }

    _test_params: ClassVar[tuple[dict[str, Any], ...]] = ()  # see the notes

    trim_silence: bool = True
    input_rate: int | None = None
    batch_size: int = 16

    # -- weights ----------------------------------------------------------
    def _model_key(self) -> tuple:
        return (str(resolve_device(self.device)),)

    def _load_model(self) -> Any:
        resemblyzer = _import_resemblyzer()
        encoder = resemblyzer.VoiceEncoder(
            device=resolve_device(self.device), verbose=False
        )
        return encoder.eval()

    # -- encoder hooks -----------------------------------------------------
    def _target_rate(self) -> int:
        return _RATE

    def _prepare_wave(self, wave: np.ndarray) -> np.ndarray:
        if not np.any(wave):
            raise ValueError("the clip is silent (all samples are zero)")
        peak = float(np.abs(wave).max())
        if peak > 1.0:
            # resemblyzer's VAD converts to 16-bit PCM: keep within full scale
            wave = wave / peak
        return wave.astype(np.float32)

    def _fit_encoder(self, prepared: list | None) -> None:
        resemblyzer = _import_resemblyzer()  # fail at fit when it is missing
        self.model_path_ = str(Path(resemblyzer.__file__).parent / "pretrained.pt")
        self._get_model()
        self.sampling_rate_ = _RATE
        self.n_features_out_ = _WIDTH

    def _encode_batch(self, prepared: list) -> np.ndarray:
        resemblyzer = _import_resemblyzer()
        encoder = self._get_model()
        out = np.empty((len(prepared), _WIDTH), dtype=np.float32)
        for i, wave in enumerate(prepared):
            processed = None
            if self.trim_silence:
                processed = resemblyzer.preprocess_wav(wave)
                if processed.shape[0] < _MIN_VOICED:
                    processed = None
            if processed is None:
                processed = resemblyzer.normalize_volume(
                    wave, resemblyzer.audio.audio_norm_target_dBFS, increase_only=True
                )
            out[i] = encoder.embed_utterance(processed.astype(np.float32))
        return out
