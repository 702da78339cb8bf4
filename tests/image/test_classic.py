"""skmm.image._classic: pixels, colour histograms, HOG."""

from __future__ import annotations

import pickle
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image
from sklearn.base import clone
from sklearn.compose import ColumnTransformer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer
from sklearn.utils._param_validation import InvalidParameterError

from skmm.exceptions import InvalidItemError, InvalidItemWarning
from skmm.image import (
    ColorHistogramEncoder,
    HOGImageEncoder,
    PixelImageEncoder,
    hog,
)

CLASSIC = [PixelImageEncoder, ColorHistogramEncoder, HOGImageEncoder]
REFERENCE = Path(__file__).parent / "data" / "hog_skimage_reference.npz"


def _instances():
    return [
        pytest.param(cls(**{"verbose": 0, **params}), id=f"{cls.__name__}-{i}")
        for cls in CLASSIC
        for i, params in enumerate(cls.get_test_params())
    ]


def _rand_images(n=4, h=20, w=24, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.integers(0, 256, (h, w, 3), dtype=np.uint8) for _ in range(n)]


# -------------------------------------------------------------- shared contract
@pytest.mark.parametrize("enc", _instances())
def test_shape_dtype_and_missing_rows(enc):
    cells = [*_rand_images(3), None, np.nan, pd.NA]
    out = enc.fit_transform(cells)
    assert out.dtype == np.float32
    assert out.shape == (6, enc.n_features_out_)
    assert np.isfinite(out[:3]).all()
    assert np.isnan(out[3:]).all()
    assert len(enc.get_feature_names_out()) == enc.n_features_out_


@pytest.mark.parametrize("enc", _instances())
def test_every_cell_kind_encodes_alike(enc, image_dir, rgb_array, png_bytes):
    cells = [
        str(image_dir["png"]),
        image_dir["png"],
        png_bytes(rgb_array),
        Image.fromarray(rgb_array),
        rgb_array,
        rgb_array.astype(np.float64) / 255.0,
    ]
    out = enc.fit_transform(cells)
    for row in out[1:]:
        np.testing.assert_allclose(row, out[0], atol=1e-6)


@pytest.mark.parametrize("enc", _instances())
def test_pickle_and_clone(enc):
    images = _rand_images(3)
    enc.fit(images)
    expected = enc.transform(images)
    restored = pickle.loads(pickle.dumps(enc))
    np.testing.assert_array_equal(restored.transform(images), expected)
    fresh = clone(enc)
    assert fresh.get_params() == enc.get_params()
    assert not hasattr(fresh, "n_features_out_")
    np.testing.assert_array_equal(fresh.fit_transform(images), expected)


@pytest.mark.parametrize("cls", CLASSIC)
def test_dedup_encodes_identical_items_once(cls, monkeypatch, image_dir):
    enc = cls(verbose=0, batch_size=2)
    seen = []
    original = cls._encode_batch

    def counting(self, prepared):
        seen.append(len(prepared))
        return original(self, prepared)

    monkeypatch.setattr(cls, "_encode_batch", counting)
    a, b = _rand_images(2)
    cells = [a, a.copy(), b, None, str(image_dir["png"]), image_dir["png"], a]
    out = enc.fit_transform(cells)
    assert sum(seen) == 3  # a, b, the png
    np.testing.assert_array_equal(out[0], out[1])
    np.testing.assert_array_equal(out[0], out[6])
    np.testing.assert_array_equal(out[4], out[5])


@pytest.mark.parametrize("cls", CLASSIC)
@pytest.mark.parametrize("bad", ["corrupt", "missing", "dir", "empty"])
def test_bad_file_raises_naming_column_row_and_path(cls, bad, image_dir, rgb_array):
    df = pd.DataFrame(
        {"photo": [rgb_array, str(image_dir[bad]), rgb_array]},
        index=["a", "b", "c"],
    )
    enc = cls(verbose=0).fit(df.iloc[[0]])
    with pytest.raises(InvalidItemError) as info:
        enc.transform(df)
    err = info.value
    assert err.column == "photo" and err.row == "b"
    message = str(err)
    assert "'photo'" in message and "'b'" in message
    assert str(image_dir[bad]) in message
    reason = {
        "corrupt": "not a readable image",
        "empty": "not a readable image",
        "missing": "file not found",
        "dir": "is a directory",
    }[bad]
    assert reason in message


@pytest.mark.parametrize("cls", CLASSIC)
def test_on_error_nan_only_bad_rows(cls, image_dir, rgb_array):
    cells = [
        rgb_array,
        str(image_dir["corrupt"]),
        image_dir["missing"],
        np.zeros((3, 3, 2), np.uint8),
        12345,
        None,
        rgb_array,
    ]
    enc = cls(verbose=0, on_error="nan")
    with pytest.warns(InvalidItemWarning, match=r"4 of 5 items in column 'x0'"):
        out = enc.fit_transform(cells)
    assert np.isfinite(out[[0, 6]]).all()
    assert np.isnan(out[1:6]).all()
    with pytest.raises(InvalidItemError, match="unsupported image cell of type int"):
        cls(verbose=0).fit_transform([rgb_array, 12345])


@pytest.mark.parametrize("cls", CLASSIC)
def test_array_batches_as_one_column(cls):
    batch4 = np.stack(_rand_images(3))  # (n, H, W, C)
    batch3 = batch4[..., 0]  # (n, H, W) grey
    for X in (batch4, batch3):
        enc = cls(verbose=0)
        out = enc.fit_transform(X)
        assert enc.n_features_in_ == 1
        assert out.shape == (3, enc.n_features_out_)
        list_out = cls(verbose=0).fit_transform(list(X))
        np.testing.assert_array_equal(out, list_out)


@pytest.mark.parametrize("cls", CLASSIC)
def test_dataframe_in_column_transformer(cls, image_dir, rgb_array):
    a, b = _rand_images(2)
    df = pd.DataFrame(
        {
            "front": [a, str(image_dir["png"]), None, b],
            "back": [b, a, rgb_array, None],
            "price": [1.0, 2.0, 3.0, 4.0],
        }
    )
    ct = ColumnTransformer(
        [
            ("image", cls(verbose=0), ["front", "back"]),
            ("num", "passthrough", ["price"]),
        ],
        verbose_feature_names_out=True,
    )
    out = ct.fit_transform(df)
    d = ct.named_transformers_["image"].n_features_out_
    assert out.shape == (4, 2 * d + 1)
    names = ct.get_feature_names_out()
    assert names[0] == "image__front__f0" and names[d] == "image__back__f0"
    assert names[-1] == "num__price"
    assert np.isnan(out[2, :d]).all() and np.isfinite(out[2, d : 2 * d]).all()
    # one column alone, wrapped in a pipeline
    pipe = make_pipeline(cls(verbose=0), FunctionTransformer(np.nan_to_num))
    assert pipe.fit_transform(df[["front"]]).shape == (4, d)


@pytest.mark.parametrize("cls", CLASSIC)
def test_parameter_validation(cls):
    with pytest.raises(InvalidParameterError, match="resize"):
        cls(resize="stretch").fit(_rand_images(1))
    with pytest.raises(ValueError, match="background"):
        cls(background=(0, 0), verbose=0).fit(_rand_images(1))


def test_transform_checks_column_count():
    enc = PixelImageEncoder(size=4, verbose=0).fit(
        pd.DataFrame({"a": _rand_images(2), "b": _rand_images(2)})
    )
    with pytest.raises(ValueError, match="feature names"):
        enc.transform(pd.DataFrame({"a": _rand_images(2)}))
    with pytest.raises(ValueError, match="2 features"), pytest.warns(UserWarning):
        enc.transform(_rand_images(2))


# -------------------------------------------------------------------- pixels
def test_pixels_values_and_layout():
    img = np.zeros((2, 3, 3), np.uint8)
    img[0, 1] = (255, 0, 51)
    out = PixelImageEncoder(size=(2, 3), verbose=0).fit_transform([img])
    assert out.shape == (1, 18)
    np.testing.assert_allclose(out[0, 3:6], [1.0, 0.0, 0.2], atol=1e-6)
    grey = PixelImageEncoder(size=(2, 3), grayscale=True, verbose=0)
    assert grey.fit_transform([img]).shape == (1, 6)


def test_pixels_rgba_background(image_dir):
    enc = PixelImageEncoder(size=(12, 10), background=(0, 0, 255), verbose=0)
    out = enc.fit_transform([str(image_dir["rgba"])]).reshape(12, 10, 3)
    np.testing.assert_array_equal(out[0, 0], [1, 0, 0])
    np.testing.assert_array_equal(out[-1, 0], [0, 0, 1])


@pytest.mark.parametrize("policy", ["squash", "pad", "crop"])
def test_pixels_resize_policies_differ_on_wide_images(policy):
    wide = np.zeros((10, 40, 3), np.uint8)
    wide[:, :20] = 255
    out = PixelImageEncoder(size=4, resize=policy, verbose=0).fit_transform([wide])
    img = out.reshape(4, 4, 3)[..., 0]
    if policy == "squash":  # left half white, right half black, all rows
        assert img[:, 0].min() > 0.9 and img[:, 3].max() < 0.1
    elif policy == "pad":  # a 4x1 strip (row 1), white bars around
        np.testing.assert_allclose(img[[0, 2, 3]], 1.0)
        assert img[1, 0] > 0.9 and img[1, 3] < 0.1
    else:  # the central 10x10 square: half white, half black
        assert img[:, 0].min() > 0.8 and img[:, 3].max() < 0.2


# ----------------------------------------------------------------- histograms
def test_joint_histogram_sums_to_one_and_counts():
    img = np.zeros((4, 4, 3), np.uint8)
    img[:2] = (255, 255, 255)
    out = ColorHistogramEncoder(bins=2, verbose=0).fit_transform([img])[0]
    assert out.shape == (8,) and out.sum() == pytest.approx(1.0)
    assert out[0] == pytest.approx(0.5) and out[7] == pytest.approx(0.5)


def test_per_channel_histogram():
    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, (16, 16, 3), dtype=np.uint8)
    enc = ColorHistogramEncoder(bins=5, joint=False, verbose=0)
    out = enc.fit_transform([img])[0]
    assert enc.n_features_out_ == 15
    np.testing.assert_allclose(out.reshape(3, 5).sum(axis=1), 1.0, rtol=1e-6)
    expected = np.histogram(img[..., 1], bins=5, range=(0, 256))[0] / 256
    np.testing.assert_allclose(out[5:10], expected, rtol=1e-6)


def test_hsv_histogram_separates_hues():
    red = np.zeros((4, 4, 3), np.uint8)
    red[..., 0] = 255
    blue = np.zeros((4, 4, 3), np.uint8)
    blue[..., 2] = 255
    enc = ColorHistogramEncoder(bins=4, color_space="hsv", joint=False, verbose=0)
    out = enc.fit_transform([red, blue])
    hue = out[:, :4]
    assert hue[0].argmax() == 0 and hue[1].argmax() == 2
    # same saturation and value
    np.testing.assert_allclose(out[0, 4:], out[1, 4:])


def test_histogram_size_none_keeps_full_resolution():
    img = np.zeros((3, 5, 3), np.uint8)
    img[0, 0] = 255
    out = ColorHistogramEncoder(bins=2, verbose=0).fit_transform([img])[0]
    assert out[7] == pytest.approx(1 / 15)


# ------------------------------------------------------------------------ HOG
def test_hog_matches_skimage_reference():
    """Reference values from skimage.feature.hog 0.26 (block_norm="L2-Hys")."""
    ref = np.load(REFERENCE)
    got = hog(ref["gray_in"], orientations=9, pixels_per_cell=4, cells_per_block=2)
    np.testing.assert_allclose(got, ref["gray_out"], atol=1e-6)
    got = hog(
        ref["color_in"], orientations=6, pixels_per_cell=(5, 4), cells_per_block=(2, 3)
    )
    np.testing.assert_allclose(got, ref["color_out"], atol=1e-6)
    got = hog(ref["struct_in"], orientations=8, pixels_per_cell=4, cells_per_block=1)
    np.testing.assert_allclose(got, ref["struct_out"], atol=1e-6)


def test_hog_matches_installed_skimage():
    feature = pytest.importorskip("skimage.feature")
    rng = np.random.default_rng(1)
    images = rng.random((2, 30, 26))
    expected = np.stack(
        [
            feature.hog(
                im,
                orientations=7,
                pixels_per_cell=(6, 5),
                cells_per_block=(2, 2),
                block_norm="L2-Hys",
            )
            for im in images
        ]
    )
    got = hog(images, orientations=7, pixels_per_cell=(6, 5), cells_per_block=2)
    np.testing.assert_allclose(got, expected, atol=1e-6)


def test_hog_encoder_width_and_default():
    enc = HOGImageEncoder(verbose=0).fit(_rand_images(1))
    assert enc.n_features_out_ == 7 * 7 * 2 * 2 * 9 == 1764
    enc = HOGImageEncoder(
        size=(32, 48),
        orientations=6,
        pixels_per_cell=(8, 16),
        cells_per_block=(2, 1),
        verbose=0,
    ).fit(_rand_images(1))
    assert enc.n_features_out_ == 3 * 3 * 2 * 1 * 6


def test_hog_encoder_equals_function_on_grey_pixels():
    images = _rand_images(2, h=32, w=32)
    out = HOGImageEncoder(size=32, verbose=0).fit_transform(images)
    grey = np.stack([np.asarray(Image.fromarray(im).convert("L")) for im in images])
    np.testing.assert_allclose(out, hog(grey / 255.0), atol=1e-6)


def test_hog_is_blind_to_brightness_but_not_to_shape():
    rng = np.random.default_rng(0)
    img = rng.integers(0, 128, (32, 32, 3), dtype=np.uint8)
    enc = HOGImageEncoder(size=32, verbose=0)
    base, brighter, rotated = enc.fit_transform([img, img + 100, np.rot90(img).copy()])
    np.testing.assert_allclose(base, brighter, atol=1e-3)
    assert np.abs(base - rotated).max() > 0.05


def test_hog_too_small_errors():
    with pytest.raises(ValueError, match="fewer than one block"):
        HOGImageEncoder(size=8, pixels_per_cell=8, cells_per_block=2).fit(
            _rand_images(1)
        )
    with pytest.raises(ValueError, match="fewer than one block"):
        hog(np.zeros((1, 4, 4)))


def test_progress_bar_is_silent_with_verbose_0(capsys):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        PixelImageEncoder(size=2, batch_size=1, verbose=0).fit_transform(
            _rand_images(3)
        )
    assert capsys.readouterr().err == ""
