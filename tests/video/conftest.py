"""Small videos generated with PyAV: solid colours, a sound track, broken files."""

from __future__ import annotations

import numpy as np
import pytest

av = pytest.importorskip("av", reason="PyAV (the `video` extra) is not installed")

RED, GREEN, BLUE = (255, 0, 0), (0, 255, 0), (0, 0, 255)


def solid(colour, n: int, size=(16, 16)) -> list[np.ndarray]:
    return [np.full((*size, 3), colour, np.uint8)] * n


@pytest.fixture(scope="session")
def clips(tmp_path_factory):
    """Paths of generated clips (10 fps) and broken files, by name."""
    from skmm.video import write_video

    d = tmp_path_factory.mktemp("videos")
    out = {}
    out["red_blue"] = write_video(solid(RED, 10) + solid(BLUE, 10), d / "rb.mp4")
    out["rgb"] = write_video(
        solid(RED, 10) + solid(GREEN, 10) + solid(BLUE, 10), d / "rgb.mp4"
    )
    t = np.arange(16000) / 16000
    out["sound"] = write_video(
        solid(GREEN, 10), d / "sound.mp4", audio=0.3 * np.sin(2 * np.pi * 440 * t)
    )
    # no frame count in the header: counted from the packets
    mkv = d / "rb.mkv"
    with av.open(str(mkv), "w") as c:
        s = c.add_stream("mpeg4", rate=10)
        s.width = s.height = 16
        s.pix_fmt = "yuv420p"
        for f in solid(RED, 10) + solid(BLUE, 10):
            c.mux(s.encode(av.VideoFrame.from_ndarray(f, "rgb24")))
        c.mux(s.encode())
    out["mkv"] = mkv
    # broken ones
    data = out["red_blue"].read_bytes()
    (d / "truncated.mp4").write_bytes(data[: len(data) // 2])
    out["truncated"] = d / "truncated.mp4"
    avi = d / "empty.avi"  # a video stream with no frames
    with av.open(str(avi), "w") as c:
        s = c.add_stream("mpeg4", rate=10)
        s.width = s.height = 16
        s.pix_fmt = "yuv420p"
        c.start_encoding()
    out["zero_frames"] = avi
    good_avi = d / "good.avi"
    with av.open(str(good_avi), "w") as c:
        s = c.add_stream("mpeg4", rate=10)
        s.width = s.height = 16
        s.pix_fmt = "yuv420p"
        for f in solid(RED, 4):
            c.mux(s.encode(av.VideoFrame.from_ndarray(f, "rgb24")))
        c.mux(s.encode())
    raw = good_avi.read_bytes()
    assert raw.count(b"FMP4") == 2
    (d / "codec.avi").write_bytes(raw.replace(b"FMP4", b"ZZZZ"))  # no decoder
    out["unsupported_codec"] = d / "codec.avi"
    wav = d / "sound.wav"
    with av.open(str(wav), "w") as c:
        s = c.add_stream("pcm_s16le", rate=8000)
        s.layout = "mono"
        frame = av.AudioFrame.from_ndarray(
            np.zeros((1, 800), np.int16), format="s16", layout="mono"
        )
        frame.sample_rate = 8000
        c.mux(s.encode(frame))
        c.mux(s.encode())
    out["no_video_stream"] = wav
    (d / "zero.mp4").write_bytes(b"")
    out["empty_file"] = d / "zero.mp4"
    out["missing"] = d / "nope.mp4"
    out["directory"] = d
    return out
