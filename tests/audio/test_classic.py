"""MFCCEncoder and LogMelEncoder: widths, missing cells, errors, sklearn glue."""

from __future__ import annotations

import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.compose import ColumnTransformer
from sklearn.utils._param_validation import InvalidParameterError

from skmm.audio import LogMelEncoder, MFCCEncoder
from skmm.exceptions import InvalidItemError, InvalidItemWarning

SR = 16000
ENCODERS = [MFCCEncoder, LogMelEncoder]


@pytest.mark.parametrize(
    ("params", "width"),
    [
        ({}, 40),
        ({"pooling": "mean"}, 20),
        ({"pooling": "frames", "n_frames": 5}, 100),
        ({"deltas": True}, 120),
        ({"n_mfcc": 13, "deltas": True, "pooling": "frames", "n_frames": 4}, 156),
    ],
)
def test_mfcc_width(params, width, tone):
    enc = MFCCEncoder(verbose=0, **params)
    X = enc.fit_transform([tone(), tone(880.0, seconds=0.05)])
    assert X.shape == (2, width) and X.dtype == np.float32
    assert np.isfinite(X).all()
    assert enc.n_features_out_ == width
    assert list(enc.get_feature_names_out()[:2]) == ["f0", "f1"]


@pytest.mark.parametrize(
    ("params", "width"),
    [({}, 128), ({"n_mels": 32, "pooling": "mean"}, 32), ({"pooling": "frames"}, 2048)],
)
def test_logmel_width(params, width, tone):
    X = LogMelEncoder(verbose=0, **params).fit_transform([tone()])
    assert X.shape == (1, width)


@pytest.mark.parametrize("cls", ENCODERS)
def test_missing_cells_give_nan_rows(cls, tone):
    clips = pd.Series([tone(), None, np.nan, pd.NA, tone(660.0)], name="clip")
    enc = cls(verbose=0)
    X = enc.fit_transform(clips)
    assert np.isnan(X[1:4]).all()
    assert np.isfinite(X[[0, 4]]).all()
    # width is known from the parameters, even when every cell is missing
    assert cls(verbose=0).fit_transform([None, None]).shape == (2, enc.n_features_out_)


def test_cell_kinds_agree(audio_dir, tone):
    wave = tone()
    cells = [
        str(audio_dir / "tone.wav"),
        audio_dir / "tone.flac",
        (audio_dir / "tone.wav").read_bytes(),
        wave,
        list(wave.astype(float)),
        (wave, SR),
    ]
    X = MFCCEncoder(verbose=0).fit_transform(cells)
    np.testing.assert_allclose(X, np.repeat(X[3:4], len(cells), axis=0), atol=1e-2)


def test_resampled_input_gives_nearly_the_same_features(audio_dir, tone):
    enc = LogMelEncoder(verbose=0, pooling="mean").fit([None])
    native = enc.transform([tone()])
    from_file = enc.transform([audio_dir / "tone_44k.wav"])
    from_tuple = enc.transform([(tone(rate=44100), 44100)])
    by_param = LogMelEncoder(verbose=0, pooling="mean", input_rate=44100).fit_transform(
        [tone(rate=44100)]
    )
    # the file is 16-bit PCM: quantisation noise shows in the quietest bands
    np.testing.assert_allclose(from_file, from_tuple, atol=0.1)
    np.testing.assert_allclose(by_param, from_tuple, atol=1e-3)
    # same spectrum peak; the loudest bands within about a decibel
    assert native.argmax() == from_file.argmax()
    top = native[0] > native.max() - 20
    np.testing.assert_allclose(from_file[0][top], native[0][top], atol=1.0)


def test_tone_and_noise_are_told_apart(tone, noise):
    X = MFCCEncoder(verbose=0).fit_transform(
        [tone(440.0), tone(440.0, amp=0.4), noise(seed=1), noise(seed=2)]
    )
    d = np.linalg.norm(X[:, None] - X[None], axis=-1)
    assert d[0, 1] < d[0, 2] and d[2, 3] < d[1, 3]


def test_frames_pooling_keeps_time_order():
    t = np.arange(SR) / SR
    chirp = np.sin(2 * np.pi * (200 * t + 1500 * t**2)).astype(np.float32)
    clips = [chirp, chirp[::-1].copy()]
    stats = MFCCEncoder(verbose=0).fit_transform(clips)
    frames = MFCCEncoder(verbose=0, pooling="frames", n_frames=8).fit_transform(clips)
    stat_gap = np.linalg.norm(stats[0] - stats[1]) / np.linalg.norm(stats[0])
    frame_gap = np.linalg.norm(frames[0] - frames[1]) / np.linalg.norm(frames[0])
    assert frame_gap > 5 * stat_gap


def test_short_clips_work():
    X = MFCCEncoder(verbose=0, pooling="frames", deltas=True).fit_transform(
        [np.array([0.1, -0.2, 0.3]), np.array([0.5])]
    )
    assert np.isfinite(X).all()


def _first_error(excinfo) -> InvalidItemError:
    return excinfo.value


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("missing.wav", "no such audio file"),
        ("notes.txt", "not a readable audio file"),
        ("folder.wav", "is a directory"),
    ],
)
def test_bad_file_names_column_row_and_path(audio_dir, name, reason):
    df = pd.DataFrame(
        {"clip": [str(audio_dir / "tone.wav"), str(audio_dir / name)]},
        index=["a", "b"],
    )
    enc = MFCCEncoder(verbose=0).fit(df)
    with pytest.raises(InvalidItemError) as excinfo:
        enc.transform(df)
    err = excinfo.value
    message = str(err)
    assert err.column == "clip" and err.row == "b"
    assert "column 'clip', row 'b'" in message
    assert str(audio_dir / name) in message and reason in message


def test_on_error_nan_only_spoils_the_bad_row(audio_dir, tone):
    cells = [tone(), str(audio_dir / "notes.txt"), np.zeros((2, 5)), tone(880.0)]
    enc = MFCCEncoder(verbose=0, on_error="nan").fit(cells)
    with pytest.warns(InvalidItemWarning, match="2 of 4 items in column 'x0'"):
        X = enc.transform(cells)
    assert np.isnan(X[1:3]).all() and np.isfinite(X[[0, 3]]).all()


def test_duplicates_are_encoded_once(audio_dir, tone, monkeypatch):
    seen: list[int] = []
    original = MFCCEncoder._encode_batch

    def counting(self, prepared):
        seen.append(len(prepared))
        return original(self, prepared)

    monkeypatch.setattr(MFCCEncoder, "_encode_batch", counting)
    path = audio_dir / "tone.wav"
    wave = tone()
    cells = [wave, wave.copy(), str(path), path, None, list(wave.astype(float)), wave]
    X = MFCCEncoder(verbose=0, batch_size=2).fit_transform(cells)
    # unique clips: the array (the list holds other bytes: float64) and the file
    assert sum(seen) == 3
    np.testing.assert_array_equal(X[0], X[1])
    np.testing.assert_array_equal(X[2], X[3])


@pytest.mark.parametrize("cls", ENCODERS)
def test_pickle_clone_and_batch_size(cls, tone, noise):
    clips = [tone(), noise(), None, tone(300.0, seconds=0.2)]
    enc = cls(verbose=0, batch_size=1).fit(clips)
    X = enc.transform(clips)
    again = pickle.loads(pickle.dumps(enc))
    np.testing.assert_array_equal(again.transform(clips), X)
    cloned = clone(enc).set_params(batch_size=64)
    assert not hasattr(cloned, "n_features_out_")
    np.testing.assert_allclose(cloned.fit_transform(clips), X, rtol=1e-6, atol=1e-6)


def test_dataframe_in_column_transformer(audio_dir, tone):
    df = pd.DataFrame(
        {
            "clip": [str(audio_dir / "tone.wav"), None, tone(880.0)],
            "other": [str(audio_dir / "noise.wav"), tone(), None],
            "age": [30.0, 40.0, 50.0],
        }
    )
    ct = ColumnTransformer(
        [
            ("audio", MFCCEncoder(verbose=0, pooling="mean"), ["clip", "other"]),
            ("num", "passthrough", ["age"]),
        ]
    ).set_output(transform="pandas")
    out = ct.fit_transform(df)
    assert out.shape == (3, 2 * 20 + 1)
    assert list(out.columns[:2]) == ["audio__clip__f0", "audio__clip__f1"]
    assert "audio__other__f0" in out.columns and out.columns[-1] == "num__age"
    assert out.iloc[1, :20].isna().all() and out.iloc[2, 20:40].isna().all()


def test_numeric_arrays(tone):
    batch = np.stack([tone(), tone(880.0)])
    enc = LogMelEncoder(verbose=0).fit(batch)
    assert enc.n_features_in_ == 1
    assert enc.transform(batch).shape == (2, 128)
    with pytest.raises(ValueError, match="numeric array of shape \\(8000,\\)"):
        enc.transform(tone())
    # an object array holds cells, one column per array column
    cells = np.empty((2, 1), dtype=object)
    cells[0, 0], cells[1, 0] = tone(), None
    assert LogMelEncoder(verbose=0).fit_transform(cells).shape == (2, 128)


def test_parameter_validation(tone):
    with pytest.raises(InvalidParameterError, match="'pooling' parameter"):
        MFCCEncoder(pooling="max").fit([tone()])
    with pytest.raises(InvalidParameterError, match="'input_rate' parameter"):
        LogMelEncoder(input_rate=0).fit([tone()])
    with pytest.raises(ValueError, match="n_mfcc=40 cannot exceed n_mels=32"):
        MFCCEncoder(n_mfcc=40, n_mels=32).fit([tone()])
    with pytest.raises(ValueError, match="above the Nyquist"):
        LogMelEncoder(fmax=9000.0).fit([tone()])
    with pytest.raises(ValueError, match="fmin=5000.0 must be below"):
        LogMelEncoder(fmin=5000.0, fmax=4000.0).fit([tone()])


@pytest.mark.parametrize("cls", ENCODERS)
def test_get_test_params_are_cheap_and_clean(cls, tone):
    params = cls.get_test_params()
    assert params
    for p in params:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            X = cls(**p).fit_transform([tone(), None])
        assert X.shape[1] == cls(**p).fit([None]).n_features_out_


def test_disk_cache_skips_known_clips(tmp_path, tone, noise, monkeypatch):
    clips = [tone(), noise(), None]
    first = MFCCEncoder(verbose=0, cache=tmp_path).fit_transform(clips)
    calls: list[int] = []
    monkeypatch.setattr(
        MFCCEncoder, "_encode_batch", lambda self, p: calls.append(len(p))
    )
    again = MFCCEncoder(verbose=0, cache=tmp_path).fit_transform(clips)
    assert calls == []
    np.testing.assert_array_equal(again, first)
