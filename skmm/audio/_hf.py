"""Pretrained Hugging Face speech encoders (wav2vec 2.0, HuBERT, WavLM, ...)."""

from __future__ import annotations

import numbers
import warnings
from dataclasses import KW_ONLY, dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from skmm.audio._common import _AudioEncoderBase, _LongestFirstMixin
from skmm.base._docs import encoder_docs
from skmm.base._loaded import LoadedModel
from skmm.base._params import PretrainedEncoderParams
from skmm.base._pretrained import PretrainedMixin
from skmm.base._test_params import CheapParamsMixin
from skmm.utils._device import resolve_device
from skmm.utils._docs import fill_doc
from skmm.utils._hf import load_hf_folder
from skmm.utils._params import estimator_init
from skmm.utils._sklearn_compat import Interval, StrOptions
from skmm.utils._weights import resolve_model_folder

__all__ = ["HFAudioEncoder"]


@dataclass
class _AudioModel(LoadedModel):
    """The model and its feature extractor."""

    extractor: Any

    def __reduce__(self):
        # wav2vec2's positional convolution uses a weight-norm
        # parametrization, which torch refuses to pickle: travel as
        # (class name, config, state dict) and rebuild on load
        state = {k: v.detach().cpu() for k, v in self.model.state_dict().items()}
        return (
            _rebuild_audio_model,
            (self.extractor, type(self.model).__name__, self.model.config, state),
        )


def _rebuild_audio_model(
    extractor: Any, class_name: str, config: Any, state: dict
) -> _AudioModel:
    import torch
    import transformers

    with torch.random.fork_rng():
        model = getattr(transformers, class_name)(config)
    model.load_state_dict(state)
    # pickled weights come back on the CPU: a CUDA machine is not assumed
    return _AudioModel(model.eval(), torch.device("cpu"), extractor)


def _min_input_length(config: Any) -> int:
    """Fewest samples that give one output frame of the conv front end."""
    kernels = getattr(config, "conv_kernel", None)
    strides = getattr(config, "conv_stride", None)
    if not kernels or not strides:
        return 1
    length = 1
    for kernel, stride in reversed(list(zip(kernels, strides))):
        length = (length - 1) * stride + kernel
    return int(length)


@fill_doc(encoder_docs("audio"))
@estimator_init
class HFAudioEncoder(
    CheapParamsMixin,
    _LongestFirstMixin,
    PretrainedMixin,
    _AudioEncoderBase,
    PretrainedEncoderParams,
):
    """Embed audio clips with a pretrained Hugging Face speech encoder.

    Loads ``AutoFeatureExtractor`` and ``AutoModel`` from a local folder
    (saved with ``save_pretrained``: wav2vec 2.0, HuBERT, WavLM,
    data2vec-audio and other wav2vec2-style models), runs the raw waveform
    through it and pools the frame states of one layer over time.

    Clips are resampled to the feature extractor's rate and cut at
    ``max_seconds``.  Padding never leaks into an embedding: models whose
    feature extractor returns an attention mask get padded batches with the
    mask (the mask also excludes padded frames from pooling); the others
    (e.g. wav2vec2-base, whose group norm sees padding) are run on groups
    of equal-length clips, so a clip's embedding does not depend on the
    other clips in its batch.

    Weights load on first use (``fit``), are shared between clones, and are
    not pickled unless ``pickle_weights=True``.

    Output width per input column: the model's hidden size
    (``config.hidden_size``, 768 for base models, 1024 for large ones).

    Parameters
    ----------
    model : str or path
        A local Hugging Face model folder (``config.json``, weights and
        ``preprocessor_config.json``).
    sampling_rate : int or None, default=None
        Rate (Hz) of the model; ``None`` reads the feature extractor's.  A
        value that disagrees with the feature extractor is an error.
    pooling : {"mean", "max"}, default="mean"
        How the frame states of a clip become one vector (padded frames
        excluded).
    layer : int, default=-1
        Which hidden-state output to pool: ``0`` is the input to the first
        transformer layer (after the CNN front end and positional
        convolution), ``-1`` the model's output (``last_hidden_state``).
    normalize : bool, default=False
        L2-normalise the embeddings.
    max_seconds : float or None, default=30.0
        Keep only the first ``max_seconds`` of each clip (memory and time
        grow with the length); ``None`` keeps everything.
    input_rate : int or None, default=None
        Rate of bare waveform cells; ``None`` means the model's rate.
        Files and ``(waveform, rate)`` cells carry their own rate.
    batch_size : int, default=8
        Clips per forward pass (clips are sorted by duration first, so
        batches hold clips of similar length).
    {pretrained_encoder_params}

    Attributes
    ----------
    {model_path_}
    sampling_rate_ : int
        The rate clips are resampled to.
    n_features_out_ : int
        Embedding width.
    n_layers_ : int
        Number of hidden-state outputs (transformer layers + 1).
    uses_attention_mask_ : bool
        Whether batches are padded with an attention mask.
    min_length_ : int
        Fewest samples the CNN front end accepts; shorter clips are
        zero-padded to it.
    {input_attributes}

    Notes
    -----
    ``get_test_params()`` returns ``[]``: the encoder needs a model folder
    (tests build one with :func:`skmm.testing.make_tiny_audio_model`).

    Examples
    --------
    >>> import tempfile
    >>> import numpy as np
    >>> from skmm.audio import HFAudioEncoder
    >>> from skmm.testing import make_tiny_audio_model
    >>> folder = make_tiny_audio_model(tempfile.mkdtemp())
    >>> enc = HFAudioEncoder(folder, device="cpu", verbose=0)
    >>> clip = np.random.default_rng(0).normal(size=8000)
    >>> enc.fit_transform([clip, None]).shape
    (2, 32)
    """

    _parameter_constraints: ClassVar[dict] = {
        **_AudioEncoderBase._parameter_constraints,
        "model": [str, Path],
        "sampling_rate": [Interval(numbers.Integral, 1, None, closed="left"), None],
        "pooling": [StrOptions({"mean", "max"})],
        "layer": [numbers.Integral],
        "normalize": ["boolean"],
        "max_seconds": [Interval(numbers.Real, 0, None, closed="neither"), None],
    }

    _test_params: ClassVar[tuple[dict[str, Any], ...]] = ()  # see the notes

    model: str | Path
    _: KW_ONLY
    sampling_rate: int | None = None
    pooling: str = "mean"
    layer: int = -1
    normalize: bool = False
    max_seconds: float | None = 30.0
    input_rate: int | None = None
    batch_size: int = 8

    # -- weights ----------------------------------------------------------
    def _model_key(self) -> tuple:
        return (self.model_path_, str(resolve_device(self.device)))

    def _load_model(self) -> _AudioModel:
        extractor, model, device, _ = load_hf_folder(
            self.model_path_,
            "AutoFeatureExtractor",
            kind="audio",
            device=self.device,
            show_progress=bool(self.verbose),
        )
        return _AudioModel(model, device, extractor)

    # -- encoder hooks -----------------------------------------------------
    def _target_rate(self) -> int:
        return self.sampling_rate_

    def _prepare_wave(self, wave: np.ndarray) -> np.ndarray:
        wave = super()._prepare_wave(wave)  # cut at max_seconds
        if wave.shape[0] < self.min_length_:
            wave = np.pad(wave, (0, self.min_length_ - wave.shape[0]))
        return wave

    def _fit_encoder(self, prepared: list | None) -> None:
        folder = resolve_model_folder(
            self.model,
            "audio",
            advice="Pass a local folder saved with `save_pretrained` (config.json, "
            "weights and preprocessor_config.json).",
        )
        self.model_path_ = str(folder)
        loaded = self._get_model()
        rate = getattr(loaded.extractor, "sampling_rate", None)
        if rate is None and self.sampling_rate is None:
            raise ValueError(
                f"The feature extractor in {self.model_path_!r} does not state its "
                "sampling rate; pass sampling_rate=."
            )
        if rate is not None and self.sampling_rate not in (None, rate):
            raise ValueError(
                f"sampling_rate={self.sampling_rate} disagrees with the model's "
                f"feature extractor ({rate} Hz); leave sampling_rate=None (clips "
                "are resampled to the model's rate)."
            )
        self.sampling_rate_ = int(rate if rate is not None else self.sampling_rate)
        self.uses_attention_mask_ = bool(
            getattr(loaded.extractor, "return_attention_mask", False)
        )
        self.min_length_ = _min_input_length(loaded.model.config)
        # one dry run: the width and the number of layers, and an early error
        # when the folder holds something that is not a speech encoder
        probe = np.zeros(max(self.min_length_, self.sampling_rate_ // 10), np.float32)
        states = self._forward(loaded, [probe], all_layers=True)[0]
        self.n_layers_ = len(states)
        if not -self.n_layers_ <= self.layer < self.n_layers_:
            raise ValueError(
                f"layer={self.layer} is out of range: the model gives "
                f"{self.n_layers_} hidden-state outputs (the CNN front end + "
                f"{self.n_layers_ - 1} layers), so layer must be in "
                f"[{-self.n_layers_}, {self.n_layers_ - 1}]."
            )
        self.n_features_out_ = int(states[self.layer].shape[-1])

    def _forward(self, loaded: _AudioModel, waves: list, *, all_layers: bool):
        """Run the model on ``waves``; returns (hidden states, frame mask)."""
        import torch

        inputs = loaded.extractor(
            waves,
            sampling_rate=self.sampling_rate_,
            padding=True,
            return_attention_mask=self.uses_attention_mask_,
            return_tensors="pt",
        )
        inputs = {k: v.to(loaded.device) for k, v in inputs.items()}
        model = loaded.model
        if getattr(model.config, "is_encoder_decoder", False):
            model = model.get_encoder()
        want_all = all_layers or self.layer != -1
        with torch.inference_mode(), warnings.catch_warnings():
            # WavLM mixes a bool padding mask with a float position bias
            warnings.filterwarnings(
                "ignore", message="Support for mismatched key_padding_mask"
            )
            out = model(**inputs, output_hidden_states=want_all)
        if want_all:
            # the last entry is the model's output (after the final layer norm
            # of pre-norm models, which transformers 5 leaves out here)
            states = (*out.hidden_states[:-1], out.last_hidden_state)
        else:
            states = (out.last_hidden_state,)
        mask = inputs.get("attention_mask")
        frame_mask = None
        if mask is not None:
            n_frames = states[-1].shape[1]
            if hasattr(model, "_get_feature_vector_attention_mask"):
                frame_mask = model._get_feature_vector_attention_mask(n_frames, mask)
            elif mask.shape[1] == n_frames:
                frame_mask = mask
        return states, frame_mask

    def _pool(self, states: Any, frame_mask: Any):
        import torch

        hidden = states[self.layer if len(states) > 1 else -1].float()
        if frame_mask is None:
            frame_mask = torch.ones(hidden.shape[:2], device=hidden.device)
        mask = frame_mask.to(hidden.dtype).unsqueeze(-1)
        if self.pooling == "mean":
            emb = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0)
        else:
            emb = hidden.masked_fill(mask == 0, float("-inf")).max(1).values
        if self.normalize:
            emb = torch.nn.functional.normalize(emb, p=2, dim=1)
        return emb.cpu().numpy()

    def _encode_batch(self, prepared: list) -> np.ndarray:
        loaded = self._get_model()
        out = np.empty((len(prepared), self.n_features_out_), dtype=np.float32)
        if self.uses_attention_mask_:
            groups = [list(range(len(prepared)))]
        else:
            by_length: dict[int, list[int]] = {}
            for i, wave in enumerate(prepared):
                by_length.setdefault(wave.shape[0], []).append(i)
            groups = list(by_length.values())
        for group in groups:
            states, frame_mask = self._forward(
                loaded, [prepared[i] for i in group], all_layers=False
            )
            out[group] = self._pool(states, frame_mask)
        return out
