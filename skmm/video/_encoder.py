"""VideoEncoder: sampled frames through an image encoder, pooled over time."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from sklearn.base import BaseEstimator

from skmm.base._params import EncoderParams
from skmm.utils._docs import fill_doc
from skmm.utils._params import estimator_init
from skmm.utils._sklearn_compat import StrOptions
from skmm.video._common import VIDEO_DOCS, _Clip, _VideoEncoderBase, resolve_encoder

__all__ = ["VideoEncoder"]


@fill_doc(VIDEO_DOCS)
@estimator_init
class VideoEncoder(_VideoEncoderBase, EncoderParams):
    """Embed videos: frames sampled with PyAV, any image encoder, pooled.

    Each cell (a path to a video file, or its bytes) is opened with PyAV
    (the ``video`` extra: ``pip install 'skmm[video]'``; the wheels bundle
    FFmpeg, so mp4/H.264, mkv, webm, avi, mov ... decode).  Frames are
    sampled uniformly (``n_frames`` at the centres of equal segments) or
    every ``1 / fps`` seconds, embedded by ``image_encoder`` and pooled.
    Missing cells give NaN rows; unreadable ones (a missing file, a folder,
    a truncated or corrupt file, a video with no frames or no video
    stream, a codec FFmpeg cannot decode) an :class:`~skmm.exceptions.
    InvalidItemError` naming the column, row and file, or NaN rows under
    ``on_error="nan"``.

    Parameters
    ----------
    image_encoder : image encoder, str or None, default=None
        Embeds each frame: an instance (cloned at fit; its ``verbose``,
        ``on_error`` and ``cache`` are overridden) or a registered name
        (``"mobilenet_v2"``, ``"color-histogram"``, ``"hog"``, ...).
        ``None`` is ``ColorHistogramEncoder()`` (512 values, no weights);
        ``"mobilenet_v2"`` gives semantic 1280-d frame embeddings from
        weights that install with pip.
    n_frames : int, default=8
        Frames sampled uniformly per clip (a shorter clip repeats frames).
    fps : float or None, default=None
        Sample one frame every ``1 / fps`` seconds instead, so longer clips
        get more frames; not with ``pooling="sequence"`` (its width must
        be fixed).
    pooling : {"mean", "max", "sequence"}, default="mean"
        ``"mean"`` / ``"max"`` over the sampled frames (width ``d``, the
        image encoder's), or ``"sequence"``: the ``n_frames`` embeddings in
        time order, flattened frame by frame (width ``n_frames * d``), so a
        model after it learns the pooling -- e.g. a ``FusionClassifier``
        with ``fusion="attention"`` and one modality per frame (see the
        user guide).
    audio_encoder : audio encoder, str or None, default=None
        Also encode the sound track (decoded with PyAV, mono, at its own
        rate; the audio encoder resamples) and append its embedding to the
        row: an instance (cloned at fit) or a registered name (``"mfcc"``,
        ``"logmel"``, ...).  A clip with no audio track is encoded as
        silence of its duration.
    batch_size : int, default=8
        Clips per batch (their frames go to the image encoder together).
    cache : bool, path or None, default=None
        Cache embeddings on disk per clip, and each sampled frame's
        embedding per (video content, frame index, image encoder), so a
        later run with another pooling or ``n_frames`` embeds only new
        frames (``True``: ``$SKMM_CACHE_DIR`` or ``~/.cache/skmm/embeddings``).
    {on_error}
    {verbose}

    Attributes
    ----------
    {image_encoder_}
    audio_encoder_ : BaseEncoder or None
        The fitted audio encoder, when ``audio_encoder`` is set.
    frame_dim_ : int
        Width of one frame's embedding.
    n_features_out_ : int
        Output width per input column.
    {input_attributes}

    See Also
    --------
    VideoSummarizer : keyframes and a contact sheet from the same frames.

    Examples
    --------
    >>> import numpy as np
    >>> from skmm.video import VideoEncoder, write_video
    >>> clip = write_video([np.full((16, 16, 3), (255, 0, 0), np.uint8)] * 6)
    >>> enc = VideoEncoder(n_frames=4, verbose=0)
    >>> X = enc.fit_transform([clip, None])
    >>> X.shape, round(float(X[0].max()), 2), bool(np.isnan(X[1]).all())
    ((2, 512), 1.0, True)
    >>> VideoEncoder(n_frames=4, pooling="sequence").fit([clip]).n_features_out_
    2048
    """

    _parameter_constraints: ClassVar[dict] = {
        **_VideoEncoderBase._parameter_constraints,
        "pooling": [StrOptions({"mean", "max", "sequence"})],
        "audio_encoder": [BaseEstimator, str, None],
    }

    _test_params: ClassVar[tuple[dict[str, Any], ...]] = (
        {"n_frames": 3, "image_encoder": "pixels", "verbose": 0},
        {"n_frames": 2, "pooling": "sequence", "verbose": 0},
        {"fps": 5.0, "pooling": "max", "audio_encoder": "logmel", "verbose": 0},
    )

    image_encoder: Any = None
    n_frames: int = 8
    fps: float | None = None
    pooling: str = "mean"
    audio_encoder: Any = None
    batch_size: int = 8

    @property
    def _audio(self) -> bool:  # type: ignore[override]
        return self.audio_encoder is not None

    def _fit_output(self, frame_dim: int) -> None:
        if self.pooling == "sequence" and self.fps is not None:
            raise ValueError(
                "pooling='sequence' needs a fixed number of frames: use n_frames, "
                "not fps (fps gives longer clips more frames)."
            )
        self.frame_dim_ = frame_dim
        width = frame_dim * (self.n_frames if self.pooling == "sequence" else 1)
        self.audio_encoder_ = None
        if self.audio_encoder is not None:
            audio = resolve_encoder(self.audio_encoder, "audio", "audio_encoder")
            audio.fit([(np.zeros(1600, np.float32), 16000)])
            self.audio_encoder_ = audio
            width += int(audio.n_features_out_)
        self.n_features_out_ = width

    def _summarise_clip(self, clip: _Clip, emb: np.ndarray) -> np.ndarray:
        if self.pooling == "mean":
            return emb.mean(axis=0)
        if self.pooling == "max":
            return emb.max(axis=0)
        return emb.reshape(-1)

    def _encode_batch(self, prepared: list) -> np.ndarray:
        rows = super()._encode_batch(prepared)
        if self.audio_encoder_ is None:
            return rows
        sound = self.audio_encoder_.transform([c.frames.audio for c in prepared])
        return np.hstack([rows, np.asarray(sound, np.float32)])
