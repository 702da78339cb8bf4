from __future__ import annotations

import pickle
import warnings

import numpy as np
import pandas as pd
import pytest

from skmm.exceptions import InvalidItemError, InvalidItemWarning
from skmm.image import ColorHistogramEncoder
from skmm.video import VideoEncoder, read_video

RED_BIN, BLUE_BIN = 7 * 8 * 8, 7  # ColorHistogramEncoder(bins=8) joint bins


def test_mean_max_and_sequence_pooling(clips):
    X = [str(clips["red_blue"])]
    mean = VideoEncoder(n_frames=4, verbose=0).fit_transform(X)[0]
    assert mean.shape == (512,)
    assert mean[RED_BIN] == pytest.approx(0.5, abs=0.02)
    assert mean[BLUE_BIN] == pytest.approx(0.5, abs=0.02)
    peak = VideoEncoder(n_frames=4, pooling="max", verbose=0).fit_transform(X)[0]
    assert peak[RED_BIN] > 0.95 and peak[BLUE_BIN] > 0.95
    seq = VideoEncoder(n_frames=4, pooling="sequence", verbose=0).fit_transform(X)[0]
    frames = seq.reshape(4, 512)  # frame by frame, in time order
    assert (frames[:2, RED_BIN] > 0.95).all() and (frames[2:, BLUE_BIN] > 0.95).all()
    np.testing.assert_allclose(frames.mean(axis=0), mean, atol=1e-6)


def test_frames_go_through_the_image_encoder(clips):
    path = clips["rgb"]
    enc = VideoEncoder(image_encoder="pixels", n_frames=3, pooling="sequence")
    got = enc.set_params(verbose=0).fit_transform([path])[0].reshape(3, -1)
    frames = read_video(path, n_frames=3)
    ref = enc.image_encoder_.transform([frames.images[i] for i in frames.indices])
    np.testing.assert_array_equal(got, ref)
    assert type(enc.image_encoder_).__name__ == "PixelImageEncoder"
    assert enc.frame_dim_ == 16 * 16 * 3 and enc.n_features_out_ == 3 * 768


def test_image_encoder_instance_is_cloned_and_quiet(clips):
    user = ColorHistogramEncoder(bins=4, verbose=1, on_error="nan")
    enc = VideoEncoder(image_encoder=user, n_frames=2, verbose=0).fit([clips["rgb"]])
    assert enc.image_encoder_ is not user and enc.image_encoder_.on_error == "raise"
    assert enc.n_features_out_ == 64
    assert not hasattr(user, "n_features_out_")
    assert enc.get_params()["image_encoder__bins"] == 4


def test_audio_track_is_appended(clips):
    from skmm.audio import MFCCEncoder

    enc = VideoEncoder(n_frames=2, audio_encoder="mfcc", verbose=0)
    X = enc.fit_transform([clips["sound"], clips["red_blue"]])
    assert X.shape == (2, 512 + 40) and np.isfinite(X).all()
    wave = read_video(clips["sound"], audio=True).audio
    ref = MFCCEncoder(verbose=0).fit_transform([wave])[0]
    np.testing.assert_allclose(X[0, 512:], ref, rtol=1e-5, atol=1e-5)
    silence = MFCCEncoder(verbose=0).fit_transform(
        [read_video(clips["red_blue"], audio=True).audio]
    )[0]
    np.testing.assert_allclose(X[1, 512:], silence, rtol=1e-5, atol=1e-5)


def test_parameters_are_checked_at_fit(clips):
    with pytest.raises(ValueError, match="pooling='sequence' needs a fixed number"):
        VideoEncoder(fps=2.0, pooling="sequence").fit([clips["rgb"]])
    with pytest.raises(ValueError, match="image_encoder must be an image encoder"):
        VideoEncoder(image_encoder="mfcc").fit([clips["rgb"]])
    with pytest.raises(ValueError, match="audio_encoder must be an audio encoder"):
        VideoEncoder(audio_encoder="pixels").fit([clips["rgb"]])
    with pytest.raises(ValueError, match="'pooling' parameter"):
        VideoEncoder(pooling="attention").fit([clips["rgb"]])


BAD = [
    ("missing", "no such video file"),
    ("directory", "is a directory"),
    ("truncated", "truncated"),
    ("zero_frames", "no frames"),
    ("empty_file", "not a readable video file"),
    ("no_video_stream", "no video stream"),
    ("unsupported_codec", "codec is not supported"),
]


@pytest.mark.parametrize("name, match", BAD)
def test_bad_items_name_column_row_and_file(clips, name, match):
    df = pd.DataFrame(
        {"clip": [str(clips["rgb"]), str(clips[name])]}, index=["good", "bad"]
    )
    enc = VideoEncoder(n_frames=2, verbose=0).fit(df)
    with pytest.raises(InvalidItemError, match=match) as info:
        enc.transform(df)
    assert info.value.column == "clip" and info.value.row == "bad"
    assert str(clips[name]) in str(info.value)


def test_on_error_nan_keeps_the_other_rows(clips):
    cells = [clips["rgb"], None] + [clips[name] for name, _ in BAD]
    enc = VideoEncoder(n_frames=2, on_error="nan", verbose=0).fit(cells)
    with pytest.warns(InvalidItemWarning, match=f"{len(BAD)} of {len(BAD) + 1} items"):
        X = enc.transform(cells)
    assert np.isfinite(X[0]).all() and np.isnan(X[1:]).all()
    np.testing.assert_array_equal(X[0], enc.transform([clips["rgb"]])[0])


class _Counting(ColorHistogramEncoder):
    """Counts the frames it embeds (shared across clones via the class)."""

    seen = 0

    def transform(self, X):
        type(self).seen += len(X)
        return super().transform(X)


def test_frame_cache_reuses_frames_across_settings(clips, tmp_path):
    path = clips["rgb"]  # 30 frames
    image = _Counting(bins=4)
    kw = dict(image_encoder=image, cache=tmp_path, verbose=0)
    _Counting.seen = 0
    a = VideoEncoder(n_frames=3, **kw).fit_transform([path])
    assert _Counting.seen == 3
    # another pooling: same frames, none embedded again, nothing decoded
    b = VideoEncoder(n_frames=3, pooling="max", **kw).fit_transform([path])
    assert _Counting.seen == 3
    assert b.shape == a.shape and not np.array_equal(a, b)
    # 9 frames include the 3: only 6 new ones
    VideoEncoder(n_frames=9, pooling="sequence", **kw).fit_transform([path])
    assert _Counting.seen == 9
    # another image encoder: its own frames
    VideoEncoder(
        n_frames=3, image_encoder=_Counting(bins=2), cache=tmp_path, verbose=0
    ).fit_transform([path])
    assert _Counting.seen == 12
    # the summariser shares the frames (and their times)
    from skmm.video import VideoSummarizer

    s = VideoSummarizer(n_keyframes=3, n_frames=9, **kw).fit_transform([path])
    assert _Counting.seen == 12
    # identical frames in a segment: the earliest is the medoid
    np.testing.assert_allclose(s[0], [0.1, 1.1, 2.1], atol=1e-6)


def test_duplicates_and_bytes_share_a_key(clips):
    data = clips["rgb"].read_bytes()
    enc = VideoEncoder(n_frames=2, verbose=0).fit([data])
    X = enc.transform([data, clips["rgb"], bytearray(data)])
    np.testing.assert_array_equal(X[0], X[1])
    np.testing.assert_array_equal(X[0], X[2])


def test_pickle_round_trip(clips):
    enc = VideoEncoder(n_frames=2, audio_encoder="logmel", verbose=0).fit(
        [clips["rgb"]]
    )
    again = pickle.loads(pickle.dumps(enc))
    np.testing.assert_array_equal(
        again.transform([clips["sound"]]), enc.transform([clips["sound"]])
    )


def test_sequence_feeds_attention_fusion(clips):
    # one pseudo-modality per frame: the fusion's attention learns the pooling
    from skmm.fusion import FusionClassifier

    enc = VideoEncoder(
        n_frames=4,
        pooling="sequence",
        image_encoder=ColorHistogramEncoder(bins=2),
        verbose=0,
    )
    paths = [clips["red_blue"], clips["rgb"]] * 4
    X = enc.fit_transform(paths)
    y = np.array([0, 1] * 4)
    d = enc.frame_dim_
    frames = {f"frame{i}": slice(i * d, (i + 1) * d) for i in range(4)}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf = FusionClassifier(
            fusion="attention", modalities=frames, max_epochs=30, random_state=0
        ).fit(X, y)
    assert clf.score(X, y) == 1.0
