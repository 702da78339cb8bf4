"""Fuzzing the audio encoders: odd waveforms, rates, dtypes, broken files."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from skmm.audio import LogMelEncoder, MFCCEncoder
from tests.fuzz._property import (
    Cell,
    Fitted,
    check_property,
    fit_layouts,
    missing_cells,
    other_objects,
    tables,
)

FUZZ = settings.get_profile("skmm-fuzz")
FUZZ_LONG = settings.get_profile("skmm-fuzz-long")

SR = 8000
ENCODERS = {
    "mfcc": lambda: MFCCEncoder(
        sampling_rate=SR, n_mfcc=6, n_mels=12, n_fft=128, hop_length=64, verbose=0
    ),
    "mfcc-deltas": lambda: MFCCEncoder(
        sampling_rate=SR,
        n_mfcc=4,
        n_mels=8,
        n_fft=64,
        hop_length=32,
        pooling="frames",
        n_frames=3,
        deltas=True,
        verbose=0,
    ),  # fmt: skip
    "logmel": lambda: LogMelEncoder(
        sampling_rate=SR, n_mels=10, n_fft=128, hop_length=64, top_db=None, verbose=0
    ),
}
# float32's largest value, with room for a resampling filter's overshoot
F32_MAX = float(np.finfo(np.float32).max)
RATES_OK = [SR, 16000, 22050, 44100, 48000, 11025, 44101, 1_000_003, 2**31 - 1,
            float(SR), np.int64(16000), np.float32(22050)]  # fmt: skip
RATES_SLOW = [3, 101]  # upsampled ~2700x and 80x: short waves only
RATES_BAD = [0, -1, -16000, 1.5, 16000.5, math.nan, math.inf, True, False, "16000",
             None, b"8000", 1j, [SR]]  # fmt: skip


# ------------------------------------------------------------------- files
def _tone(n: int = 800, rate: int = SR) -> np.ndarray:
    return (0.5 * np.sin(2 * np.pi * 440 * np.arange(n) / rate)).astype(np.float32)


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> Fitted:
    root = tmp_path_factory.mktemp("fuzz_audio")
    paths = Fitted(root=root)
    for ext in ("wav", "flac", "ogg"):
        paths[ext] = root / f"tone.{ext}"
        sf.write(paths[ext], _tone(), SR)
    paths["stereo"] = root / "stereo.wav"
    sf.write(paths["stereo"], np.stack([_tone(), _tone()[::-1]], axis=1), SR)
    paths["44k"] = root / "tone_44k.wav"
    sf.write(paths["44k"], _tone(4410, 44100), 44100)
    paths["pcm8"] = root / "pcm8.wav"
    sf.write(paths["pcm8"], _tone(), SR, subtype="PCM_U8")
    paths["text"] = root / "notes.wav"
    paths["text"].write_text("not audio\n" * 10)
    paths["empty"] = root / "empty.wav"
    paths["empty"].write_bytes(b"")
    paths["dir"] = root / "folder.wav"
    paths["dir"].mkdir()
    return paths


@pytest.fixture(scope="module")
def encoders():
    ok = _tone()
    return Fitted({name: fit_layouts(make, [ok]) for name, make in ENCODERS.items()})


# -------------------------------------------------------------- strategies
def _float_kind(arr: np.ndarray) -> str:
    if arr.size == 0 or not np.isfinite(arr).all():
        return "bad"
    peak = float(np.abs(arr.astype(np.float64)).max())
    if peak < F32_MAX / 4:
        return "valid"
    return "bad" if peak > F32_MAX * (1 + 1e-6) else "odd"


def _wave_kind(arr: np.ndarray) -> str:
    if arr.ndim != 1:
        return "bad"
    if arr.dtype in (np.int16, np.int32):
        return "valid" if arr.size else "bad"
    if arr.dtype.kind == "f":
        return _float_kind(arr)
    return "bad"


DTYPES = [np.float32, np.float32, np.float64, np.float16, np.int16, np.int32,
          np.bool_, np.int8, np.uint8, np.int64, np.uint16, np.complex64]  # fmt: skip


def _elements(dtype):
    dtype = np.dtype(dtype)
    if dtype.kind != "f":
        return None
    width = min(dtype.itemsize * 8, 64)
    unit = st.floats(-1, 1, width=width)
    return st.one_of(unit, unit, unit, st.floats(width=width))


@st.composite
def waves(draw, max_len: int = 1200) -> np.ndarray:
    dtype = draw(st.sampled_from(DTYPES))
    shape = draw(
        st.one_of(
            st.tuples(st.integers(1, max_len)),
            st.tuples(st.integers(1, 4)),  # a few samples
            st.just((0,)),
            st.just(()),
            st.tuples(st.sampled_from([1, 2]), st.integers(1, 200)),  # stereo
            st.tuples(st.integers(1, 200), st.just(2)),
        )
    )
    arr = draw(arrays(dtype, shape, elements=_elements(dtype)))
    if draw(st.integers(0, 9)) == 0 and arr.dtype.kind == "f" and arr.size:
        with np.errstate(over="ignore", invalid="ignore"):  # may become inf
            arr = arr.astype(np.float64) * draw(st.sampled_from([1e20, 1e37, 1e300]))
    return arr


@st.composite
def wave_cells(draw) -> Cell:
    arr = draw(waves())
    how = draw(st.sampled_from(["array", "array", "list", "object", "reversed"]))
    if how == "list" and arr.ndim == 1 and arr.dtype.kind in "fiub":
        values = arr.tolist()
        if arr.dtype.kind == "f":
            kind = _float_kind(np.asarray(values, dtype=np.float64))
        else:
            kind = "valid" if values else "bad"  # a list of ints is taken as given
        return Cell(values, kind, f"list of {arr.dtype}")
    if how == "object" and arr.ndim == 1 and arr.dtype.kind in "fi" and arr.size:
        obj = arr.astype(object)
        return Cell(obj, _float_kind(arr.astype(np.float64)), f"object {arr.dtype}")
    if how == "reversed" and arr.ndim == 1:
        arr = arr[::-1]
    return Cell(arr, _wave_kind(arr), "waveform")


@st.composite
def rate_tuples(draw) -> Cell:
    choice = draw(
        st.sampled_from(["ok", "ok", "slow", "bad", "swapped", "triple", "path"])
    )
    if choice == "slow":
        arr = draw(
            arrays(np.float32, st.integers(1, 40), elements=st.floats(-1, 1, width=32))
        )
        return Cell((arr, draw(st.sampled_from(RATES_SLOW))), "valid", "slow rate")
    wave = draw(wave_cells())
    if choice == "ok":
        rate = draw(st.sampled_from(RATES_OK))
        return Cell((wave.value, rate), wave.kind, f"rate {rate!r}")
    if choice == "bad":
        rate = draw(st.sampled_from(RATES_BAD))
        return Cell((wave.value, rate), "bad", f"rate {rate!r}")
    if choice == "swapped":
        return Cell((SR, wave.value), "bad", "(rate, wave)")
    if choice == "triple":
        return Cell((wave.value, SR, 1), "bad", "(wave, rate, 1)")
    return Cell(("tone.wav", SR), "bad", "(path, rate)")


@st.composite
def audio_bytes(draw, files) -> Cell:
    ext = draw(st.sampled_from(["wav", "flac", "ogg", "stereo", "pcm8"]))
    data = files[ext].read_bytes()
    how = draw(st.sampled_from(["whole", "bytearray", "cut", "cut", "garbage"]))
    if how == "whole":
        return Cell(data, "valid", ext)
    if how == "bytearray":
        return Cell(bytearray(data), "valid", ext)
    if how == "garbage":
        junk = draw(st.binary(max_size=64))
        return Cell(junk, "odd" if junk else "bad", "garbage bytes")
    cut = draw(st.integers(1, len(data) - 1))
    return Cell(data[:cut], "odd", f"{ext} cut at {cut} of {len(data)}")


@st.composite
def audio_paths(draw, files) -> Cell:
    choice = draw(
        st.sampled_from(
            [
                "wav",
                "flac",
                "ogg",
                "stereo",
                "44k",
                "pcm8",
                "text",
                "empty",
                "dir",
                "missing",
                "dot",
            ]
        )
    )
    if choice == "missing":
        name = draw(st.text(max_size=12)).replace("/", "_")
        value = str(files["root"] / "nope" / (name + ".wav"))
        return Cell(Path(value) if draw(st.booleans()) else value, "bad", "missing")
    if choice == "dot":
        return Cell(Path(""), "bad", "Path('') is the working directory")
    kind = "bad" if choice in ("text", "empty", "dir") else "valid"
    path = files[choice]
    return Cell(path if draw(st.booleans()) else str(path), kind, choice)


def audio_cells(files) -> st.SearchStrategy[Cell]:
    return st.one_of(
        wave_cells(),
        rate_tuples(),
        audio_bytes(files),
        audio_paths(files),
        missing_cells(),
        other_objects(),
    )


@st.composite
def audio_stacks(draw):
    """A 2-D numeric array: a batch of equal-length clips (X itself)."""
    dtype = draw(st.sampled_from([np.float32, np.float64, np.int16, np.int64]))
    shape = st.tuples(st.integers(1, 4), st.integers(1, 600))
    X = draw(arrays(dtype, shape, elements=_elements(dtype)))
    return X, [Cell(x, _wave_kind(x), "batch row") for x in X]


def _check(encoders, files, name, data):
    table = data.draw(tables(audio_cells(files), stack=audio_stacks()), "table")
    check_property(encoders[name][table.fitted_as], table)


# ------------------------------------------------------------------- tests
@pytest.mark.parametrize("name", sorted(ENCODERS))
@settings(FUZZ)
@given(data=st.data())
def test_audio_encoders_property(encoders, files, name, data):
    _check(encoders, files, name, data)


@pytest.mark.fuzz_long
@pytest.mark.parametrize("name", sorted(ENCODERS))
@settings(FUZZ_LONG)
@given(data=st.data())
def test_audio_encoders_property_long(encoders, files, name, data):
    _check(encoders, files, name, data)


@pytest.mark.parametrize("rate", [44101, 1_000_003, 2**31 - 1])
def test_odd_rates_resample_quickly(rate):
    """An odd rate resamples in the frequency domain, not with a polyphase
    filter of 20 * max(up, down) taps (hundreds of GiB for 2**31 - 1)."""
    from skmm.audio import load_audio

    wave = np.sin(np.linspace(0, 50, 5000))
    out = load_audio((wave, rate), sampling_rate=16000)
    assert out.shape == (max(1, -(-5000 * 16000 // rate)),)
    assert np.isfinite(out).all()


@pytest.mark.parametrize(
    "cell, match",
    [
        (np.zeros(8, np.int64), "int64"),
        (np.zeros(8, np.uint8), "float samples"),
        (np.zeros(8, bool), "bool"),
        (np.full(8, 1e300), "overflow float32"),
        ((8000, np.zeros(8)), "waveform first"),
        ((0.0, 8000), "got float"),
        ((0.0, 0.5, 0.25), "a tuple cell must be"),
    ],
)
def test_wrong_waveforms_are_refused(cell, match):
    from skmm.audio import load_audio

    with pytest.raises((TypeError, ValueError), match=match):
        load_audio(cell, sampling_rate=16000)


def test_bytes_of_every_format_read(files):
    from skmm.audio import load_audio

    for ext in ("wav", "flac", "ogg", "pcm8"):
        wave = load_audio(files[ext].read_bytes(), sampling_rate=SR)
        assert wave.shape == (800,) and np.isfinite(wave).all()
