"""Writing small videos with PyAV (for examples and tests)."""

from __future__ import annotations

import io
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from skmm.video._io import _av

__all__ = ["write_video"]


def write_video(
    frames: Sequence[np.ndarray],
    path: str | os.PathLike | None = None,
    *,
    fps: float = 10,
    codec: str = "mpeg4",
    audio: np.ndarray | None = None,
    audio_rate: int = 16000,
) -> bytes | Path:
    """Encode RGB frames (and optionally a mono sound track) as an MP4.

    Parameters
    ----------
    frames : sequence of ndarray
        ``H x W x 3`` uint8 RGB frames, all the same size (even sides for
        yuv420p codecs).
    path : path or None, default=None
        Where to write; ``None`` returns the file's bytes.
    fps : float, default=10
        Frame rate.
    codec : str, default="mpeg4"
        An FFmpeg encoder that PyAV's wheel bundles (``"mpeg4"``,
        ``"libx264"``, ``"mjpeg"``, ...).
    audio : ndarray or None, default=None
        Mono float samples in [-1, 1], encoded as AAC.
    audio_rate : int, default=16000
        Their rate.

    Returns
    -------
    bytes or Path
        The file's bytes, or ``path``.

    Examples
    --------
    >>> import numpy as np
    >>> data = write_video([np.zeros((16, 16, 3), np.uint8)] * 3)
    >>> data[4:8]
    b'ftyp'
    """
    from fractions import Fraction

    av = _av()
    target: Any = io.BytesIO() if path is None else str(path)
    with av.open(target, "w", format="mp4") as out:
        stream = out.add_stream(codec, rate=Fraction(fps).limit_denominator(1001))
        first = np.asarray(frames[0])
        stream.height, stream.width = first.shape[:2]
        stream.pix_fmt = "yuvj420p" if codec == "mjpeg" else "yuv420p"
        sound = None
        if audio is not None:
            sound = out.add_stream("aac", rate=int(audio_rate))
            sound.layout = "mono"
        for arr in frames:
            frame = av.VideoFrame.from_ndarray(np.asarray(arr, np.uint8), "rgb24")
            out.mux(stream.encode(frame))
        out.mux(stream.encode())
        if sound is not None:
            wave = np.asarray(audio, np.float32).reshape(1, -1)
            for start in range(0, wave.shape[1], 1024):
                chunk = np.ascontiguousarray(wave[:, start : start + 1024])
                piece = av.AudioFrame.from_ndarray(chunk, format="flt", layout="mono")
                piece.sample_rate = int(audio_rate)
                out.mux(sound.encode(piece))
            out.mux(sound.encode())
    return target.getvalue() if path is None else Path(path)
