"""VideoSummarizer: keyframes of a clip, by clustering its frame embeddings."""

from __future__ import annotations

import numbers
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
from sklearn.base import clone

from skmm.base._params import EncoderParams
from skmm.utils._docs import fill_doc
from skmm.utils._params import estimator_init
from skmm.utils._sklearn_compat import (
    Interval,
    StrOptions,
    check_is_fitted,
)
from skmm.video._common import VIDEO_DOCS, _Clip, _VideoEncoderBase
from skmm.video._io import read_video, video_item_key

__all__ = ["VideoSummarizer", "VideoSummary", "change_points", "kmedoids"]


def _distances(X: np.ndarray) -> np.ndarray:
    X = np.asarray(X, np.float64)
    sq = (X * X).sum(axis=1)
    return np.sqrt(np.maximum(sq[:, None] + sq[None, :] - 2 * X @ X.T, 0.0))


def kmedoids(X: np.ndarray, k: int, *, max_iter: int = 100) -> np.ndarray:
    """Positions of ``k`` medoids of the rows of ``X`` (Euclidean), sorted.

    Deterministic: the first medoid is the most central row, each next one
    the row farthest from those chosen (ties: the earliest); then Voronoi
    iteration (assign each row to its nearest medoid, move each medoid to
    the row with the least total distance to its cluster) until nothing
    changes.  With fewer distinct rows than ``k`` medoids repeat.

    Examples
    --------
    >>> X = np.array([[0.0], [0.1], [5.0], [5.2], [9.0]])
    >>> kmedoids(X, 2).tolist()
    [0, 3]
    """
    D = _distances(X)
    n = len(D)
    medoids = [int(D.sum(axis=1).argmin())]
    while len(medoids) < min(k, n):
        gap = D[:, medoids].min(axis=1)
        if gap.max() <= 0:
            break
        medoids.append(int(gap.argmax()))
    medoids_arr = np.asarray(medoids)
    for _ in range(max_iter):
        labels = D[:, medoids_arr].argmin(axis=1)
        new = medoids_arr.copy()
        for c in range(len(medoids_arr)):
            members = np.flatnonzero(labels == c)
            if members.size:
                new[c] = members[D[np.ix_(members, members)].sum(axis=1).argmin()]
        if np.array_equal(new, medoids_arr):
            break
        medoids_arr = new
    out = np.sort(medoids_arr)
    return np.resize(out, k) if len(out) < k else out


def change_points(X: np.ndarray, k: int) -> np.ndarray:
    """One representative row per segment, cutting at the ``k - 1`` largest
    jumps between consecutive rows.

    Each segment's representative is its medoid.  Rows are in time order.

    Examples
    --------
    >>> X = np.array([[0.0], [0.0], [0.1], [7.0], [7.1], [7.0]])
    >>> change_points(X, 2).tolist()
    [0, 3]
    """
    X = np.asarray(X, np.float64)
    n = len(X)
    jumps = np.linalg.norm(np.diff(X, axis=0), axis=1)
    n_cuts = min(k, n) - 1
    cuts = np.sort(np.argsort(-jumps, kind="stable")[:n_cuts]) + 1 if n_cuts else []
    picks = []
    for seg in np.split(np.arange(n), cuts):
        D = _distances(X[seg])
        picks.append(int(seg[D.sum(axis=1).argmin()]))
    out = np.asarray(picks)
    return np.resize(out, k) if len(out) < k else out


@dataclass
class VideoSummary:
    """Keyframes of one clip (from :meth:`VideoSummarizer.summarize`).

    Attributes
    ----------
    timestamps : ndarray of float64
        Keyframe times in seconds, ascending.
    frame_indices : ndarray of int64
        Their frame indices in the decoded stream.
    images : list of ndarray
        The keyframes, ``H x W x 3`` uint8 RGB.
    """

    timestamps: np.ndarray
    frame_indices: np.ndarray
    images: list = field(repr=False)

    def contact_sheet(
        self, *, columns: int | None = None, thumb_width: int = 160, labels: bool = True
    ) -> Any:
        """The keyframes as one PIL image: a grid of thumbnails, in time order.

        Parameters
        ----------
        columns : int or None, default=None
            Thumbnails per row; ``None`` puts up to 4 per row.
        thumb_width : int, default=160
            Width of each thumbnail in pixels (height keeps the aspect).
        labels : bool, default=True
            Write each keyframe's time (``12.34 s``) in its corner.

        Returns
        -------
        PIL.Image.Image
        """
        from PIL import Image, ImageDraw

        n = len(self.images)
        cols = max(1, min(columns or 4, n))
        rows = -(-n // cols)
        h, w = self.images[0].shape[:2]
        tw, th = int(thumb_width), max(1, round(thumb_width * h / w))
        sheet = Image.new("RGB", (cols * tw, rows * th), "white")
        draw = ImageDraw.Draw(sheet)
        for j, (img, t) in enumerate(zip(self.images, self.timestamps)):
            x, y = (j % cols) * tw, (j // cols) * th
            sheet.paste(Image.fromarray(img).resize((tw, th)), (x, y))
            if labels:
                text = f"{t:.2f} s"
                box = draw.textbbox((x + 3, y + 2), text)
                draw.rectangle(box, fill="black")
                draw.text((x + 3, y + 2), text, fill="white")
        return sheet


@fill_doc(VIDEO_DOCS)
@estimator_init
class VideoSummarizer(_VideoEncoderBase, EncoderParams):
    """Keyframes of videos: clusters of frame embeddings, and their times.

    The frames are sampled and embedded as in :class:`VideoEncoder`; the
    keyframes are the medoids of ``n_keyframes`` clusters of the frame
    embeddings (``method="kmedoids"``, the frames most typical of each kind
    of shot, wherever it occurs) or one frame per segment between the
    ``n_keyframes - 1`` largest jumps from one frame to the next
    (``method="changepoints"``: scene cuts).  ``transform`` gives, per
    clip, the keyframes' timestamps in seconds (ascending; NaN rows for
    missing or, with ``on_error="nan"``, unreadable cells);
    :meth:`summarize` one clip's keyframes, frame indices and contact sheet.

    Parameters
    ----------
    n_keyframes : int, default=4
        Keyframes per clip (a clip with fewer distinct frames repeats them).
    method : {"kmedoids", "changepoints"}, default="kmedoids"
        How keyframes are chosen (see above).
    image_encoder : image encoder, str or None, default=None
        Embeds each frame, as in :class:`VideoEncoder` (default
        ``ColorHistogramEncoder()``).
    n_frames : int, default=32
        Frames sampled uniformly per clip, the candidates.
    fps : float or None, default=None
        Sample one frame every ``1 / fps`` seconds instead.
    batch_size : int, default=8
        Clips per batch.
    cache : bool, path or None, default=None
        Cache the timestamps per clip and the frame embeddings per frame
        (shared with :class:`VideoEncoder` for the same image encoder).
    {on_error}
    {verbose}

    Attributes
    ----------
    {image_encoder_}
    n_features_out_ : int
        ``n_keyframes``.
    {input_attributes}

    Examples
    --------
    >>> import numpy as np
    >>> from skmm.video import VideoSummarizer, write_video
    >>> red = np.full((16, 16, 3), (255, 0, 0), np.uint8)
    >>> blue = np.full((16, 16, 3), (0, 0, 255), np.uint8)
    >>> clip = write_video([red] * 10 + [blue] * 10, fps=10)
    >>> summ = VideoSummarizer(n_keyframes=2, n_frames=8, verbose=0).fit([clip])
    >>> summ.transform([clip]).round(2)
    array([[0.1, 1.1]], dtype=float32)
    >>> summary = summ.summarize(clip)
    >>> summary.frame_indices.tolist(), summary.contact_sheet(thumb_width=32).size
    ([1, 11], (64, 32))
    """

    _parameter_constraints: ClassVar[dict] = {
        **_VideoEncoderBase._parameter_constraints,
        "n_keyframes": [Interval(numbers.Integral, 1, None, closed="left")],
        "method": [StrOptions({"kmedoids", "changepoints"})],
    }

    _test_params: ClassVar[tuple[dict[str, Any], ...]] = (
        {"n_keyframes": 2, "n_frames": 4, "verbose": 0},
        {"n_keyframes": 3, "method": "changepoints", "fps": 5.0, "verbose": 0},
    )

    n_keyframes: int = 4
    method: str = "kmedoids"
    image_encoder: Any = None
    n_frames: int = 32
    fps: float | None = None
    batch_size: int = 8

    def _fit_output(self, frame_dim: int) -> None:
        self.n_features_out_ = int(self.n_keyframes)

    def _pick(self, emb: np.ndarray) -> np.ndarray:
        if self.method == "kmedoids":
            return kmedoids(emb, self.n_keyframes)
        return change_points(emb, self.n_keyframes)

    def _summarise_clip(self, clip: _Clip, emb: np.ndarray) -> np.ndarray:
        return clip.frames.times[self._pick(emb)]

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """Output names: ``keyframe{i}_s`` (``{column}__keyframe{i}_s`` for
        several columns).

        {names_out}
        """
        check_is_fitted(self, "n_features_out_")
        own = [f"keyframe{i}_s" for i in range(self.n_features_out_)]
        return self._names_out(own, input_features)

    def summarize(self, video: Any) -> VideoSummary:
        """The keyframes of one clip, with their frames for a contact sheet.

        Parameters
        ----------
        video : str, os.PathLike or bytes
            One video cell.  An unfitted summariser is fitted on it first
            (on a copy; ``self`` is unchanged).

        Returns
        -------
        VideoSummary
        """
        try:
            check_is_fitted(self, "n_features_out_")
            est = self
        except Exception:
            est = clone(self).fit([video])
        frames = read_video(video, n_frames=est.n_frames, fps=est.fps)
        clip = _Clip(str(video_item_key(video)), frames, {})
        emb = est._frame_embeddings([clip])[0]
        picks = est._pick(emb)
        indices = frames.indices[picks]
        return VideoSummary(
            timestamps=frames.times[picks],
            frame_indices=indices,
            images=[frames.images[int(i)] for i in indices],
        )
