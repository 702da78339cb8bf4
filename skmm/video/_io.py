"""Reading one video cell with PyAV: which frames to sample, and decoding them.

A cell is a path to a video file or the bytes of one.  Frames are sampled
either uniformly (``n_frames`` at the centres of equal segments of the
clip) or at a rate (one every ``1 / fps`` seconds); each sampled frame has
its *index* (its position in the decoded, presentation-ordered stream) and
its *time* (seconds from the start of the stream).  The audio track, when
asked for, is decoded to mono float samples at its own rate.
"""

from __future__ import annotations

import os
from collections.abc import Container, Hashable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from skmm.base._cells import short_repr
from skmm.base._files import file_source
from skmm.utils._hashing import hash_item
from skmm.utils._imports import import_optional

__all__ = [
    "VideoFrames",
    "count_frames",
    "describe_video_item",
    "read_video",
    "uniform_indices",
    "video_item_key",
]

_CELL_KINDS = "a path (str or os.PathLike) to a video file, or the bytes of one"
# content hashes of files, memoised per (path, size, mtime): a key is asked
# for twice per cell (de-duplication, then the frame cache)
_KEYS: dict[tuple, str] = {}
_MAX_KEYS = 4096


def _av() -> Any:
    return import_optional("av", extra="video")


def video_item_key(cell: Any) -> Hashable:
    """The content key of a video cell (a file's bytes, not its name).

    Examples
    --------
    >>> video_item_key(b"abc") == video_item_key(bytearray(b"abc"))
    True
    """
    if isinstance(cell, (str, os.PathLike)):
        path = Path(os.fspath(cell)).expanduser()
        try:
            st = path.stat()
        except OSError:
            return hash_item(path)  # unreadable: reading it reports the error
        stamp = (str(path.resolve()), st.st_size, st.st_mtime_ns)
        key = _KEYS.get(stamp)
        if key is None:
            if len(_KEYS) >= _MAX_KEYS:
                _KEYS.clear()
            key = _KEYS[stamp] = hash_item(path)
        return key
    if isinstance(cell, (bytes, bytearray, memoryview)):
        return hash_item(bytes(cell))
    return ("__unkeyed__", id(cell))


def describe_video_item(cell: Any) -> str:
    """A short description of a cell for error messages (paths in full).

    Examples
    --------
    >>> describe_video_item("/clips/a b.mp4")
    "path '/clips/a b.mp4'"
    """
    if isinstance(cell, (str, os.PathLike)):
        return f"path {os.fspath(cell)!r}"
    if isinstance(cell, memoryview):
        return f"bytes(len={len(cell)})"
    return short_repr(cell)


def uniform_indices(n_total: int, n_frames: int) -> np.ndarray:
    """``n_frames`` frame indices at the centres of equal segments.

    A clip shorter than ``n_frames`` repeats frames, so the count (and the
    width of a frame sequence) stays fixed.

    Examples
    --------
    >>> uniform_indices(100, 4).tolist()
    [12, 37, 62, 87]
    >>> uniform_indices(2, 4).tolist()
    [0, 0, 1, 1]
    """
    # exact integer arithmetic: floor((i + 1/2) * n_total / n_frames)
    centres = (2 * np.arange(n_frames, dtype=np.int64) + 1) * n_total
    return np.minimum(centres // (2 * n_frames), n_total - 1)


@dataclass
class VideoFrames:
    """What :func:`read_video` read from one clip.

    Attributes
    ----------
    indices : ndarray of int64
        The sampled frame indices, in time order (repeats possible).
    times : ndarray of float64
        Their times in seconds from the start of the stream (NaN for frames
        not decoded, see ``skip``).
    images : dict
        Frame index -> ``H x W x 3`` uint8 RGB array, for the decoded frames.
    n_total : int
        Frames in the stream (as the header says, or counted).
    duration : float
        Length of the clip in seconds.
    audio : (ndarray, int) or None
        Mono float32 samples and their rate, when asked for.
    """

    indices: np.ndarray
    times: np.ndarray
    images: dict = field(default_factory=dict)
    n_total: int = 0
    duration: float = 0.0
    audio: tuple | None = None


def _open(cell: Any) -> tuple[Any, str]:
    av = _av()
    opened = file_source(cell, "video")
    if opened is None:
        raise TypeError(f"expected {_CELL_KINDS}; got {type(cell).__name__}")
    source, label = opened
    try:
        return av.open(source, "r"), label
    except av.FFmpegError as exc:
        raise ValueError(
            f"{label} is not a readable video file (FFmpeg: {_reason(exc)})"
        ) from exc


def _reason(exc: BaseException) -> str:
    return getattr(exc, "strerror", None) or str(exc) or type(exc).__name__


def _video_stream(container: Any, label: str) -> Any:
    if not container.streams.video:
        kinds = sorted({s.type for s in container.streams}) or ["none"]
        raise ValueError(f"{label} has no video stream (streams: {', '.join(kinds)})")
    stream = container.streams.video[0]
    if stream.codec_context is None:
        if not stream.frames:
            raise ValueError(
                f"{label}: its video stream names no codec PyAV's FFmpeg can "
                "decode: a truncated or corrupt file (header cut short), or an "
                "unsupported codec"
            )
        raise ValueError(
            f"{label}: the video codec is not supported (no decoder for it in "
            "PyAV's bundled FFmpeg); re-encode it, e.g. to H.264"
        )
    stream.thread_type = "AUTO"
    return stream


def _count_frames(cell: Any, label: str) -> int:
    """Frames in a stream whose header does not say: count its packets."""
    container, _ = _open(cell)
    with container:
        stream = _video_stream(container, label)
        return sum(1 for p in container.demux(stream) if p.size)


def count_frames(cell: Any) -> int:
    """Frames in a video cell's stream, from its header (or its packets).

    Raises the errors of :func:`read_video` for a cell that is no video.
    """
    container, label = _open(cell)
    with container:
        n_total = int(_video_stream(container, label).frames or 0)
    if n_total == 0:
        n_total = _count_frames(cell, label)
    if n_total == 0:
        raise ValueError(f"{label} has a video stream with no frames")
    return n_total


def _duration(container: Any, stream: Any, n_total: int) -> float:
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return container.duration / 1_000_000
    rate = float(stream.average_rate or 0) or 25.0
    return n_total / rate


def _silence(duration: float) -> tuple[np.ndarray, int]:
    # a clip without an audio track is silent: that is what it sounds like
    rate = 16000
    return np.zeros(max(int(duration * rate), rate // 10), np.float32), rate


def read_video(
    cell: Any,
    *,
    n_frames: int = 8,
    fps: float | None = None,
    skip: Container[int] = (),
    audio: bool = False,
    known: dict[int, float] | None = None,
) -> VideoFrames:
    """Sample and decode the frames of one video cell.

    Parameters
    ----------
    cell : str, os.PathLike or bytes
        A video file (anything PyAV's FFmpeg reads: mp4, mkv, avi, webm,
        mov, ...) or its bytes.
    n_frames : int, default=8
        Frames sampled uniformly (see :func:`uniform_indices`); ignored
        when ``fps`` is set.
    fps : float or None, default=None
        Sample one frame every ``1 / fps`` seconds instead (the first one
        at the start).
    skip : container of int, default=()
        Frame indices not to convert to arrays (already cached).
    audio : bool, default=False
        Also decode the audio track (mono, at its own rate); a clip without
        one gets silence of its duration.
    known : dict or None
        Frame index -> time of frames already known (cached).  When every
        uniformly sampled frame is known and ``audio`` is False, nothing is
        decoded.

    Returns
    -------
    VideoFrames

    Raises
    ------
    FileNotFoundError, IsADirectoryError
        For a path that does not exist or is a folder.
    ValueError
        For a file FFmpeg cannot read (not a video, truncated, corrupt), a
        file without a video stream, an unsupported codec or a video with
        no frames.
    TypeError
        For a cell that is neither a path nor bytes.
    MissingDependencyError
        When PyAV (the ``video`` extra) is not installed.

    Examples
    --------
    >>> read_video(b"not a video")
    Traceback (most recent call last):
    ...
    ValueError: the bytes is not a readable video file (FFmpeg: ...)
    """
    av = _av()
    container, label = _open(cell)
    with container:
        stream = _video_stream(container, label)
        n_total = int(stream.frames or 0)
        if fps is None and n_total == 0:
            n_total = _count_frames(cell, label)
        if fps is None and n_total == 0:
            raise ValueError(f"{label} has a video stream with no frames")
        duration = _duration(container, stream, n_total)
        if fps is None:
            indices = uniform_indices(n_total, n_frames)
            if (
                known is not None
                and not audio
                and all(int(i) in known for i in indices)
            ):
                times = np.array([known[int(i)] for i in indices], dtype=np.float64)
                return VideoFrames(indices, times, {}, n_total, duration)
            wanted = set(indices.tolist())
            last = int(indices.max())
        else:
            wanted, last, step, next_t = set(), None, 1.0 / float(fps), 0.0
        audio_stream = (
            container.streams.audio[0] if audio and container.streams.audio else None
        )
        streams = [stream] + ([audio_stream] if audio_stream is not None else [])
        resampler = None
        if audio_stream is not None:
            resampler = av.AudioResampler(format="flt", layout="mono")
        start = stream.start_time
        t0 = float(start * stream.time_base) if start is not None else 0.0
        rate = float(stream.average_rate or 0) or 25.0
        times: dict[int, float] = {}
        images: dict[int, np.ndarray] = {}
        sound: list = []
        n_decoded = 0
        try:
            for packet in container.demux(*streams):
                if packet.stream is audio_stream:
                    for frame in packet.decode():
                        for out in resampler.resample(frame):
                            sound.append(out.to_ndarray())
                    continue
                if last is not None and n_decoded > last and audio_stream is None:
                    break
                for frame in packet.decode():
                    i = n_decoded
                    n_decoded += 1
                    t = frame.time - t0 if frame.time is not None else i / rate
                    if fps is not None and t + 1e-9 >= next_t:
                        wanted.add(i)
                        next_t += step * max(1, int((t - next_t) // step) + 1)
                    if i in wanted:
                        times[i] = t
                        if i not in skip:
                            images[i] = frame.to_ndarray(format="rgb24")
            if resampler is not None:
                for out in resampler.resample(None):
                    sound.append(out.to_ndarray())
        except av.FFmpegError as exc:
            raise ValueError(
                f"{label} could not be decoded after {n_decoded} frame(s) "
                f"(FFmpeg: {_reason(exc)}): a truncated or corrupt file?"
            ) from exc
        if not times:
            raise ValueError(f"{label} has a video stream with no frames")
        if fps is None:
            missing = sorted(wanted - times.keys())
            if missing:
                raise ValueError(
                    f"{label} ended after {n_decoded} of the {n_total} frames its "
                    "header announces: a truncated file?"
                )
        else:
            indices = np.asarray(sorted(times), dtype=np.int64)
        track = None
        if audio:
            if audio_stream is None or not sound:
                track = _silence(duration)
            else:
                wave = np.concatenate(sound, axis=1)[0].astype(np.float32)
                track = (wave, int(audio_stream.rate))
        return VideoFrames(
            indices,
            np.array([times[int(i)] for i in indices], dtype=np.float64),
            images,
            n_total or n_decoded,
            duration,
            track,
        )
