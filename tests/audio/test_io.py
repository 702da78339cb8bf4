"""Reading audio cells: every cell kind, resampling, clear errors."""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import pytest

from skmm.audio import load_audio
from skmm.audio._io import audio_item_key, describe_audio_item, resample

SR = 16000


def peak_frequency(wave: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(wave * np.hanning(len(wave))))
    return float(np.fft.rfftfreq(len(wave), 1.0 / rate)[spectrum.argmax()])


@pytest.mark.parametrize("name", ["tone.wav", "tone.flac", "tone.ogg"])
@pytest.mark.parametrize("as_path", [str, Path])
def test_file_formats(audio_dir, tone, name, as_path):
    wave = load_audio(as_path(audio_dir / name), sampling_rate=SR)
    assert wave.dtype == np.float32 and wave.shape == (SR // 2,)
    tol = 0.05 if name.endswith("ogg") else 1e-4  # ogg is lossy
    np.testing.assert_allclose(wave, tone(), atol=tol)


def test_bytes_cell(audio_dir, tone):
    data = (audio_dir / "tone.flac").read_bytes()
    np.testing.assert_allclose(load_audio(data, sampling_rate=SR), tone(), atol=1e-4)
    np.testing.assert_allclose(
        load_audio(bytearray(data), sampling_rate=SR), tone(), atol=1e-4
    )


def test_waveform_cells(tone):
    wave = tone()
    for cell in (wave, wave.astype(np.float64), list(wave.astype(float))):
        out = load_audio(cell, sampling_rate=SR)
        assert out.dtype == np.float32 and out.shape == wave.shape
        np.testing.assert_allclose(out, wave, atol=1e-7)
    out = load_audio(wave.astype(object), sampling_rate=SR)
    np.testing.assert_allclose(out, wave, atol=1e-7)
    out = load_audio((wave, SR), sampling_rate=SR)
    np.testing.assert_allclose(out, wave, atol=1e-7)


def test_pcm_integer_arrays_are_scaled():
    pcm = np.array([0, 16384, -32768], dtype=np.int16)
    np.testing.assert_allclose(load_audio(pcm, sampling_rate=SR), [0.0, 0.5, -1.0])
    # a list of ints is a list of samples, taken as given
    np.testing.assert_allclose(load_audio([0, 1, -1], sampling_rate=SR), [0, 1, -1])


def test_stereo_file_is_mixed_to_mono(audio_dir, tone):
    mono = load_audio(audio_dir / "stereo.wav", sampling_rate=SR)
    np.testing.assert_allclose(mono, (tone(440.0) + tone(880.0)) / 2, atol=1e-4)
    both = load_audio(audio_dir / "stereo.wav", sampling_rate=SR, mono=False)
    assert both.shape == (2, SR // 2)


def test_resampling_keeps_the_pitch(audio_dir, tone):
    """A 440 Hz tone recorded at 44.1 kHz is still 440 Hz at 16 kHz."""
    wave = load_audio(audio_dir / "tone_44k.wav", sampling_rate=SR)
    assert wave.shape == (SR // 2,)
    assert abs(peak_frequency(wave, SR) - 440.0) <= 2.0
    # the same through a (waveform, rate) tuple and through input_rate
    raw = tone(rate=44100)
    np.testing.assert_allclose(
        load_audio((raw, 44100), sampling_rate=SR), wave, atol=1e-4
    )
    np.testing.assert_allclose(
        load_audio(raw, sampling_rate=SR, input_rate=44100), wave, atol=1e-4
    )
    # apart from the filter's edge effects, the resampled tone is the tone
    np.testing.assert_allclose(wave[200:-200], tone()[200:-200], atol=0.01)


def test_resample_ratio():
    assert resample(np.zeros(22050), 22050, 16000).shape == (16000,)
    x = np.ones(100, dtype=np.float64)
    assert resample(x, 8000, 8000).dtype == np.float32


def test_tuple_rate_wins_over_input_rate(tone):
    out = load_audio((tone(rate=8000), 8000), sampling_rate=SR, input_rate=22050)
    assert out.shape == (SR // 2,)


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such audio file: .*nope.wav"):
        load_audio(tmp_path / "nope.wav", sampling_rate=SR)


def test_directory(audio_dir):
    with pytest.raises(IsADirectoryError, match="folder.wav' is a directory"):
        load_audio(str(audio_dir / "folder.wav"), sampling_rate=SR)


def test_not_audio(audio_dir):
    with pytest.raises(ValueError, match="notes.txt' is not a readable audio file"):
        load_audio(audio_dir / "notes.txt", sampling_rate=SR)
    with pytest.raises(ValueError, match="the bytes is not a readable audio file"):
        load_audio(b"hello, not a wav", sampling_rate=SR)
    with pytest.raises(ValueError, match="empty bytes"):
        load_audio(b"", sampling_rate=SR)


@pytest.mark.parametrize(
    ("cell", "error", "match"),
    [
        (np.zeros(0), ValueError, "empty waveform"),
        ([], ValueError, "empty waveform"),
        (np.array([0.0, np.nan, 1.0]), ValueError, "1 NaN or infinite"),
        (np.array([np.inf, 0.0]), ValueError, "NaN or infinite"),
        (np.zeros((2, 100)), ValueError, "must be 1-D .* shape \\(2, 100\\)"),
        ({"a": 1}, TypeError, "expected a path .*; got dict"),
        (["a", "b"], TypeError, "numbers only"),
        (np.array(["a", "b"]), TypeError, "dtype <U1"),
        (np.array([1 + 1j]), TypeError, "complex"),
        (np.array([0.1, "x"], dtype=object), TypeError, "not all numbers"),
        ((np.zeros(10), 0), ValueError, "positive integer"),
        ((np.zeros(10), 8000.5), ValueError, "positive integer"),
        (("clip.wav", 8000), TypeError, "not a path or bytes"),
    ],
)
def test_bad_cells(cell, error, match):
    with pytest.raises(error, match=match):
        load_audio(cell, sampling_rate=SR)


def test_bad_sampling_rate():
    with pytest.raises(ValueError, match="sampling_rate must be a positive"):
        load_audio(np.zeros(4), sampling_rate=-1)
    with pytest.raises(TypeError, match="input_rate"):
        load_audio(np.zeros(4), sampling_rate=SR, input_rate="fast")


def test_keys_follow_content(tmp_path, audio_dir, tone):
    path = audio_dir / "tone.wav"
    assert audio_item_key(str(path)) == audio_item_key(path)
    wave = tone()
    assert audio_item_key(list(wave.astype(float))) == audio_item_key(
        wave.astype(float)
    )
    assert audio_item_key((wave, SR)) != audio_item_key((wave, 8000))
    assert audio_item_key(wave) != audio_item_key(tone(880.0))
    # an edited file gets a new key
    copy = tmp_path / "copy.wav"
    copy.write_bytes(path.read_bytes())
    before = audio_item_key(copy)
    later = time.time() + 10
    copy.write_bytes(path.read_bytes()[:-100])
    os.utime(copy, (later, later))
    assert audio_item_key(copy) != before
    # an unhashable cell still gets a key (its error comes when it is read)
    first, second = {"x": 1}, {"x": 1}
    key = audio_item_key(first)
    assert key[0] == "__unkeyed__" and key != audio_item_key(second)


def test_descriptions(audio_dir):
    assert describe_audio_item(audio_dir / "tone.wav").startswith("path '")
    assert describe_audio_item(np.zeros(3)).startswith("waveform array(shape=(3,)")
    assert describe_audio_item((np.zeros(3), 8000)).endswith("rate=8000)")
    assert describe_audio_item(b"abc") == "bytes(len=3)"
