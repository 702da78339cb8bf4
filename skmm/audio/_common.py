"""What every audio encoder shares: reading an audio cell."""

from __future__ import annotations

import numbers
from typing import Any, ClassVar

import numpy as np

from skmm.audio._io import (
    audio_item_key,
    describe_audio_item,
    estimate_duration,
    load_audio,
)
from skmm.base._encoder import BaseEncoder
from skmm.utils._sklearn_compat import Interval


class _AudioEncoderBase(BaseEncoder):
    """Reads audio cells (paths, bytes, waveforms, ``(waveform, rate)``).

    Subclasses give the rate their model works at through ``_target_rate``
    and may post-process the samples in ``_prepare_wave``.
    """

    _modality: ClassVar[str] = "audio"

    _parameter_constraints: ClassVar[dict] = {
        **BaseEncoder._parameter_constraints,
        "input_rate": [Interval(numbers.Integral, 1, None, closed="left"), None],
    }

    def _target_rate(self) -> int:  # pragma: no cover - abstract
        raise NotImplementedError

    def _prepare_wave(self, wave: np.ndarray) -> Any:
        return wave

    def _prepare(self, item: Any) -> Any:
        wave = load_audio(
            item, sampling_rate=self._target_rate(), input_rate=self.input_rate
        )
        return self._prepare_wave(wave)

    def _item_key(self, item: Any):
        return audio_item_key(item)

    def _describe_item(self, item: Any) -> str:
        return describe_audio_item(item)

    def _split_array_columns(self, X: np.ndarray) -> list[list] | None:
        # A numeric 2-D array is a batch of equal-length clips, one per row;
        # object arrays (paths, ragged waveforms) are columns as usual.
        if X.dtype.kind in "fiu":
            if X.ndim == 2 and X.shape[1] == 0:
                raise ValueError(
                    f"Found array with 0 feature(s) (shape={X.shape}) while a "
                    f"minimum of 1 is required by {type(self).__name__} (a row "
                    "of a numeric array is one clip: it needs samples)."
                )
            if X.ndim == 2:
                return [list(X)]
            raise ValueError(
                f"{type(self).__name__} read a numeric array of shape {X.shape}. "
                "Pass clips as a list of 1-D waveforms, a 2-D array of shape "
                "(n_clips, n_samples), or a column of paths."
            )
        return None


class _LongestFirstMixin:
    """Clips cut at ``max_seconds`` and encoded longest first.

    For the encoders whose batches hold clips of unequal length (they set
    ``sampling_rate_`` at fit): sorted by duration, a batch holds clips of
    similar length, so it pads less, equal lengths share a forward pass
    when a model has no attention mask, and clips of several windows fill
    batches together.
    """

    def _batch_order(self, cells: list) -> np.ndarray:
        rate = self.input_rate or self.sampling_rate_
        durations = [estimate_duration(c, default_rate=rate) for c in cells]
        return np.argsort([-d for d in durations], kind="stable")

    def _prepare_wave(self, wave: np.ndarray) -> np.ndarray:
        if self.max_seconds is not None:
            wave = wave[: max(1, int(round(self.max_seconds * self.sampling_rate_)))]
        return wave
