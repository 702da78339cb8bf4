"""What the video estimators share: sampling frames, embedding them with an
image encoder, and the per-frame cache.

A video cell is read (:func:`~skmm.video._io.read_video`) into sampled frames;
``_encode_batch`` runs the image encoder once on every frame of the batch
that is not cached yet and hands each clip's ``(n_sampled, d)`` frame matrix
to the subclass (``_summarise_clip``), which pools it (``VideoEncoder``) or
picks keyframes (``VideoSummarizer``).

The frame cache (with ``cache=``) holds one entry per (video content, frame
index, image encoder fingerprint), the frame's time appended, in the same
store as the embeddings; so a second run, another ``n_frames`` that lands on
the same frames, another pooling, or the summariser after the encoder,
decode and embed only the frames not seen yet.
"""

from __future__ import annotations

import numbers
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
from sklearn.base import BaseEstimator, clone

from skmm.base._docs import encoder_docs
from skmm.base._encoder import BaseEncoder
from skmm.base._test_params import CheapParamsMixin
from skmm.utils._hashing import hash_item
from skmm.utils._sklearn_compat import Interval
from skmm.video._io import (
    VideoFrames,
    count_frames,
    describe_video_item,
    read_video,
    uniform_indices,
    video_item_key,
)

__all__: list[str] = []

_QUIET = {"verbose": 0, "on_error": "raise", "cache": None}

# the docstring entries the video estimators share
VIDEO_DOCS = {
    **encoder_docs("video"),
    "image_encoder_": """\
image_encoder_ : BaseEncoder
    The fitted frame encoder.""",
}


def resolve_encoder(spec: Any, modality: str, what: str) -> Any:
    """A fresh, quiet, unfitted encoder of ``modality`` from a name or an
    instance (cloned); ``None`` gives ``ColorHistogramEncoder()``."""
    from skmm.registry import encoders

    if spec is None:
        from skmm.image import ColorHistogramEncoder

        enc = ColorHistogramEncoder()
    elif isinstance(spec, str):
        enc = encoders.create(spec)
    elif isinstance(spec, BaseEstimator):
        enc = clone(spec)
    else:
        raise TypeError(
            f"{what} must be an encoder instance or a registered encoder name; "
            f"got {type(spec).__name__}"
        )
    got = getattr(enc, "_modality", None)
    if got != modality:
        raise ValueError(
            f"{what} must be an {modality} encoder; got {type(enc).__name__} "
            f"(modality {got!r})"
        )
    params = enc.get_params(deep=False)
    enc.set_params(**{k: v for k, v in _QUIET.items() if k in params})
    return enc


@dataclass
class _Clip:
    """A read video cell: its sampled frames, cached or to embed."""

    key: str
    frames: VideoFrames
    cached: dict  # frame index -> embedding (the frame cache's hits)


class _VideoEncoderBase(CheapParamsMixin, BaseEncoder):
    """Reads video cells and embeds their sampled frames.

    Subclasses implement ``_fit_output(frame_dim)`` (set ``n_features_out_``)
    and ``_summarise_clip(clip, frame_embeddings)`` (one output row).
    """

    _modality: ClassVar[str] = "video"
    _audio: ClassVar[bool] = False  # whether _prepare decodes the sound track

    _parameter_constraints: ClassVar[dict] = {
        **BaseEncoder._parameter_constraints,
        "image_encoder": [BaseEstimator, str, None],
        "n_frames": [Interval(numbers.Integral, 1, None, closed="left")],
        "fps": [Interval(numbers.Real, 0, None, closed="neither"), None],
    }

    # ------------------------------------------------------------- fitting
    def _fit_output(self, frame_dim: int) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _fit_encoder(self, prepared: list | None) -> None:
        from skmm.cache._fingerprint import encoder_fingerprint
        from skmm.video._io import _av

        av = _av()  # the `video` extra, checked at fit
        enc = resolve_encoder(self.image_encoder, "image", "image_encoder")
        # skmm's image encoders learn nothing from data; a blank frame fits them
        enc.fit([np.zeros((32, 32, 3), np.uint8)])
        self.image_encoder_ = enc
        self._frame_namespace = hash_item(
            ("skmm.video.frames", encoder_fingerprint(enc)[0], av.__version__)
        )
        self._fit_output(int(enc.n_features_out_))

    def _cache_state(self) -> dict:
        from skmm.cache._fingerprint import encoder_fingerprint

        state = {"frames": self._frame_namespace}
        audio = getattr(self, "audio_encoder_", None)
        if audio is not None:
            state["audio"] = encoder_fingerprint(audio)[0]
        return state

    # ------------------------------------------------------------- reading
    def _item_key(self, item: Any) -> Hashable:
        return video_item_key(item)

    def _describe_item(self, item: Any) -> str:
        return describe_video_item(item)

    def _frame_store(self) -> Any:
        if self.cache is None or self.cache is False:
            return None
        from skmm.cache._store import EmbeddingCache

        return EmbeddingCache(None if self.cache is True else self.cache)

    def _frame_keys(self, key: str, indices: Any) -> list[str]:
        return [hash_item((key, int(i))) for i in indices]

    def _prepare(self, item: Any) -> _Clip:
        key = video_item_key(item)
        if not isinstance(key, str):
            read_video(item)  # raises the reason (a cell of the wrong type)
        store = self._frame_store()
        cached: dict[int, np.ndarray] = {}
        known: dict[int, float] = {}
        if store is not None and self.fps is None:
            # look the uniform frames up before decoding: all hits, no decode
            indices = uniform_indices(count_frames(item), self.n_frames)
            cached, known = self._lookup(store, key, np.unique(indices))
        frames = read_video(
            item,
            n_frames=self.n_frames,
            fps=self.fps,
            skip=cached.keys(),
            audio=self._audio,
            known=known,
        )
        if store is not None and self.fps is not None:
            cached, _ = self._lookup(store, key, np.unique(frames.indices))
            for i in cached:
                frames.images.pop(i, None)
        return _Clip(key, frames, cached)

    def _lookup(self, store: Any, key: str, indices: np.ndarray) -> tuple[dict, dict]:
        d = self.image_encoder_.n_features_out_
        values, found = store.get_many(
            self._frame_namespace, self._frame_keys(key, indices), d + 1
        )
        cached = {int(i): values[j, :d] for j, i in enumerate(indices) if found[j]}
        known = {int(i): float(values[j, d]) for j, i in enumerate(indices) if found[j]}
        return cached, known

    # ------------------------------------------------------------ encoding
    def _summarise_clip(self, clip: _Clip, emb: np.ndarray) -> np.ndarray:
        raise NotImplementedError  # pragma: no cover - abstract

    def _frame_embeddings(self, prepared: list[_Clip]) -> list[np.ndarray]:
        """Per clip, the ``(n_sampled, d)`` embeddings of its sampled frames."""
        todo = [(c, i) for c in prepared for i in sorted(c.frames.images)]
        new = {}
        if todo:
            images = [c.frames.images[i] for c, i in todo]
            rows = np.asarray(self.image_encoder_.transform(images), np.float32)
            new = {(id(c), i): rows[j] for j, (c, i) in enumerate(todo)}
            self._store_frames(todo, rows)
        out = []
        for c in prepared:
            emb = [
                c.cached[int(i)] if int(i) in c.cached else new[(id(c), int(i))]
                for i in c.frames.indices
            ]
            out.append(np.stack(emb).astype(np.float32, copy=False))
        return out

    def _store_frames(self, todo: list, rows: np.ndarray) -> None:
        store = self._frame_store()
        good = np.isfinite(rows).all(axis=1)
        if store is None or not good.any():
            return
        keys, values = [], []
        for j, (clip, i) in enumerate(todo):
            if good[j]:
                t = clip.frames.times[list(clip.frames.indices).index(i)]
                keys.append(self._frame_keys(clip.key, [i])[0])
                values.append(np.append(rows[j], np.float32(t)))
        try:
            store.write_meta(
                self._frame_namespace,
                {"frames of": repr(self.image_encoder_), "video": "frame index"},
            )
            store.put_many(self._frame_namespace, keys, np.stack(values))
        except OSError as exc:
            from skmm.cache._store import unusable_cache_warning

            unusable_cache_warning(store.root, exc)

    def _encode_batch(self, prepared: list) -> np.ndarray:
        frames = self._frame_embeddings(prepared)
        return np.stack([self._summarise_clip(c, e) for c, e in zip(prepared, frames)])
