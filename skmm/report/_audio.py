"""Audio clips in a report: the file beside ``index.html`` and its player.

A clip is a file (copied into the report's ``figures/`` folder, like the
figures) or a waveform written there as a 16-bit PCM WAV; the page shows
an ``<audio controls>`` player per clip, its caption and a plain link for
browsers without one.
"""

from __future__ import annotations

import numbers
import wave
from pathlib import Path
from typing import Any
from urllib.parse import quote

import numpy as np

from skmm.report._markdown import inline
from skmm.report._render import markup, render

__all__ = ["AUDIO_TYPES", "audio_section"]

#: File suffixes a browser plays, and their MIME types.
AUDIO_TYPES = {
    ".wav": "audio/wav",
    ".ogg": "audio/ogg",
    ".oga": "audio/ogg",
    ".opus": "audio/ogg",
    ".mp3": "audio/mpeg",
    ".flac": "audio/flac",
    ".m4a": "audio/mp4",
    ".webm": "audio/webm",
}


def _write_wav(path: Path, samples: Any, rate: Any) -> None:
    if isinstance(rate, bool) or not isinstance(rate, numbers.Integral) or rate < 1:
        raise ValueError(
            f"rate must be a positive integer (Hz) for a waveform clip, got {rate!r}"
        )
    wave_ = np.asarray(samples, dtype=np.float64)
    if wave_.ndim != 1 or wave_.size == 0 or not np.isfinite(wave_).all():
        raise ValueError(
            "a waveform clip must be a non-empty 1-D array of finite samples in "
            f"[-1, 1]; got shape {wave_.shape}"
        )
    pcm = (np.clip(wave_, -1.0, 1.0) * 32767).round().astype("<i2")
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(int(rate))
        out.writeframes(pcm.tobytes())


def audio_section(
    report: Any, audio: Any, caption: str | None, alt: str | None, rate: Any
) -> str:
    """Place ``audio`` in ``report``'s folder; return its ``<figure>``."""
    if isinstance(audio, (str, Path)):
        source = Path(audio)
        mime = AUDIO_TYPES.get(source.suffix.lower())
        if mime is None:
            raise ValueError(
                f"{str(source)!r} is not an audio file a browser plays; expected "
                f"one of {', '.join(AUDIO_TYPES)}"
            )
        rel = report._place(source)
    else:
        report._counts["audio"] = report._counts.get("audio", 0) + 1
        target = report._free(f"audio-{report._counts['audio']}.wav")
        _write_wav(target, audio, rate)
        rel, mime = report._place(target), AUDIO_TYPES[".wav"]
    alt_text = alt if alt is not None else (caption or Path(rel).name)
    return render(
        "audio.html",
        src=quote(rel),
        mime=mime,
        alt=alt_text,
        caption=markup(inline(str(caption))) if caption else None,
    )
