from __future__ import annotations

import numpy as np
import pytest

from skmm.video import read_video, write_video
from skmm.video._io import count_frames, uniform_indices
from tests.video.conftest import BLUE, RED, solid


def test_uniform_indices_are_segment_centres():
    assert uniform_indices(20, 4).tolist() == [2, 7, 12, 17]
    assert uniform_indices(3, 5).tolist() == [0, 0, 1, 2, 2]
    # n and 3n frames share the n frames: a cache of the first serves both
    assert set(uniform_indices(30, 3)) <= set(uniform_indices(30, 9))


def test_read_video_samples_uniformly_with_times_and_colours(clips):
    got = read_video(clips["red_blue"], n_frames=4)
    assert got.indices.tolist() == [2, 7, 12, 17]
    np.testing.assert_allclose(got.times, [0.2, 0.7, 1.2, 1.7], atol=1e-6)
    assert got.n_total == 20
    assert got.duration == pytest.approx(2.0, abs=0.11)
    first, last = got.images[2], got.images[17]
    assert first.shape == (16, 16, 3) and first.dtype == np.uint8
    assert np.abs(first.astype(int) - RED).max() < 12
    assert np.abs(last.astype(int) - BLUE).max() < 12


def test_read_video_by_fps(clips):
    got = read_video(clips["red_blue"], fps=2.0)
    assert got.indices.tolist() == [0, 5, 10, 15]
    np.testing.assert_allclose(got.times, [0.0, 0.5, 1.0, 1.5], atol=1e-6)


def test_bytes_read_like_the_file(clips):
    a = read_video(clips["red_blue"], n_frames=3)
    b = read_video(clips["red_blue"].read_bytes(), n_frames=3)
    assert a.indices.tolist() == b.indices.tolist()
    for i in a.images:
        np.testing.assert_array_equal(a.images[i], b.images[i])


def test_header_without_frame_count_counts_packets(clips):
    assert count_frames(clips["mkv"]) == 20
    assert read_video(clips["mkv"], n_frames=4).indices.tolist() == [2, 7, 12, 17]


def test_skip_and_known_frames_are_not_decoded(clips):
    got = read_video(clips["red_blue"], n_frames=4, skip={2, 7})
    assert sorted(got.images) == [12, 17]
    known = {2: 0.2, 7: 0.7, 12: 1.2, 17: 1.7}
    got = read_video(clips["red_blue"], n_frames=4, known=known)
    assert got.images == {} and got.times.tolist() == [0.2, 0.7, 1.2, 1.7]


def test_audio_track_and_silence(clips):
    got = read_video(clips["sound"], n_frames=2, audio=True)
    wave, rate = got.audio
    assert rate == 16000 and wave.dtype == np.float32
    assert abs(len(wave) - 16000) < 2048  # AAC priming and padding
    assert 0.15 < np.abs(wave).max() < 0.45
    wave, rate = read_video(clips["red_blue"], n_frames=2, audio=True).audio
    assert rate == 16000 and len(wave) == pytest.approx(32000, abs=1700)
    assert not wave.any()


@pytest.mark.parametrize("codec", ["libx264", "mjpeg"])
def test_other_codecs(codec):
    import av

    try:
        av.codec.Codec(codec, "w")
    except Exception:
        pytest.skip(f"PyAV's FFmpeg has no {codec} encoder")
    data = write_video(solid(RED, 5) + solid(BLUE, 5), codec=codec)
    got = read_video(data, n_frames=2)
    assert got.indices.tolist() == [2, 7]
    assert np.abs(got.images[7].astype(int) - BLUE).max() < 20


@pytest.mark.parametrize(
    "name, error, match",
    [
        ("missing", FileNotFoundError, "no such video file"),
        ("directory", IsADirectoryError, "is a directory"),
        ("truncated", ValueError, "a truncated or corrupt file"),
        ("zero_frames", ValueError, "video stream with no frames"),
        ("empty_file", ValueError, "not a readable video file"),
        ("no_video_stream", ValueError, r"no video stream \(streams: audio\)"),
        ("unsupported_codec", ValueError, "codec is not supported"),
    ],
)
def test_bad_files_raise_named_errors(clips, name, error, match):
    with pytest.raises(error, match=match):
        read_video(clips[name])


def test_bad_cells():
    with pytest.raises(ValueError, match="empty bytes"):
        read_video(b"")
    with pytest.raises(TypeError, match="a path .* or the bytes"):
        read_video(3)


def test_missing_pyav_names_the_extra(monkeypatch):
    import sys

    from skmm.exceptions import MissingDependencyError

    monkeypatch.setitem(sys.modules, "av", None)
    with pytest.raises(MissingDependencyError, match=r"skmm\[video\]"):
        read_video(b"x")
