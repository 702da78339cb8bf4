"""skmm.image._hf: Hugging Face vision models from local folders."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.compose import ColumnTransformer

from skmm.base._pretrained import clear_model_cache
from skmm.exceptions import InvalidItemError, InvalidItemWarning, MissingModelError
from skmm.image import HFImageEncoder

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")


def _images(n=3, h=40, w=30, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.integers(0, 256, (h, w, 3), dtype=np.uint8) for _ in range(n)]


def _pixels(folder, images):
    from PIL import Image

    processor = transformers.AutoImageProcessor.from_pretrained(folder)
    return processor(
        images=[Image.fromarray(im) for im in images], return_tensors="pt"
    )["pixel_values"]


def _reference(folder, images):
    """The model's outputs, computed by hand."""
    model = transformers.AutoModel.from_pretrained(folder).eval()
    with torch.inference_mode():
        return model(pixel_values=_pixels(folder, images))


@pytest.mark.parametrize("pooling", ["auto", "cls", "mean", "pooler"])
def test_poolings_match_the_model_outputs(tiny_vision_model, pooling):
    images = _images(2)
    enc = HFImageEncoder(tiny_vision_model, pooling=pooling, verbose=0)
    out = enc.fit_transform([*images, None])
    assert out.shape == (3, 32) and out.dtype == np.float32
    assert np.isnan(out[2]).all()
    ref = _reference(tiny_vision_model, images)
    expected = {
        "auto": ref.pooler_output,  # the saved ViT has trained pooler weights
        "pooler": ref.pooler_output,
        "cls": ref.last_hidden_state[:, 0],
        "mean": ref.last_hidden_state.mean(dim=1),
    }[pooling]
    np.testing.assert_allclose(out[:2], expected.numpy(), rtol=1e-4, atol=1e-5)
    assert enc.pooling_ == ("pooler" if pooling == "auto" else pooling)


def test_auto_pooling_avoids_an_untrained_pooler(tmp_path):
    config = transformers.ViTConfig(
        image_size=32,
        patch_size=8,
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
    )
    transformers.ViTModel(config, add_pooling_layer=False).save_pretrained(tmp_path)
    transformers.ViTImageProcessor(size={"height": 32, "width": 32}).save_pretrained(
        tmp_path
    )
    enc = HFImageEncoder(tmp_path, verbose=0).fit(_images(1))
    assert enc.pooling_ == "cls" and enc.n_features_out_ == 16


def test_clip_uses_get_image_features(tmp_path):
    config = transformers.CLIPConfig(
        text_config={
            "vocab_size": 50,
            "hidden_size": 16,
            "intermediate_size": 32,
            "num_hidden_layers": 1,
            "num_attention_heads": 2,
            "max_position_embeddings": 16,
            "bos_token_id": 0,
            "eos_token_id": 1,
            "pad_token_id": 1,
        },
        vision_config={
            "image_size": 32,
            "patch_size": 8,
            "hidden_size": 16,
            "intermediate_size": 32,
            "num_hidden_layers": 1,
            "num_attention_heads": 2,
        },
        projection_dim=8,
    )
    model = transformers.CLIPModel(config).eval()
    model.save_pretrained(tmp_path)
    transformers.CLIPImageProcessor(
        size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32}
    ).save_pretrained(tmp_path)
    images = _images(2)
    enc = HFImageEncoder(tmp_path, normalize=True, verbose=0)
    out = enc.fit_transform(images)
    assert enc.pooling_ == "image_features" and out.shape == (2, 8)
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1.0, rtol=1e-5)
    with torch.inference_mode():
        feats = model.get_image_features(pixel_values=_pixels(tmp_path, images))
    feats = feats if hasattr(feats, "shape") else feats.pooler_output
    feats = torch.nn.functional.normalize(feats, dim=1)
    np.testing.assert_allclose(out, feats.numpy(), rtol=1e-4, atol=1e-5)
    # the vision tower itself, before the projection
    cls = HFImageEncoder(tmp_path, pooling="cls", verbose=0).fit_transform(images)
    assert cls.shape == (2, 16)


def test_normalize(tiny_vision_model):
    out = HFImageEncoder(tiny_vision_model, normalize=True, verbose=0).fit_transform(
        _images(3)
    )
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1.0, rtol=1e-5)


def test_every_cell_kind(tiny_vision_model, image_dir, rgb_array, png_bytes):
    from PIL import Image

    cells = [
        str(image_dir["png"]),
        image_dir["png"],
        png_bytes(rgb_array),
        Image.fromarray(rgb_array),
        rgb_array,
    ]
    out = HFImageEncoder(tiny_vision_model, verbose=0).fit_transform(cells)
    for row in out[1:]:
        np.testing.assert_allclose(row, out[0], atol=1e-5)


def test_rgba_background_changes_the_embedding(tiny_vision_model, image_dir):
    white = HFImageEncoder(tiny_vision_model, verbose=0).fit_transform(
        [image_dir["rgba"]]
    )
    black = HFImageEncoder(
        tiny_vision_model, background=(0, 0, 0), verbose=0
    ).fit_transform([image_dir["rgba"]])
    assert not np.allclose(white, black)


def test_bad_items(tiny_vision_model, image_dir):
    df = pd.DataFrame(
        {"pic": [_images(1)[0], str(image_dir["missing"])]}, index=["ok", "bad"]
    )
    enc = HFImageEncoder(tiny_vision_model, verbose=0).fit(df.iloc[:1])
    with pytest.raises(InvalidItemError, match=r"column 'pic', row 'bad'") as info:
        enc.transform(df)
    assert "file not found" in str(info.value)
    assert str(image_dir["missing"]) in str(info.value)
    lenient = HFImageEncoder(tiny_vision_model, on_error="nan", verbose=0)
    with pytest.warns(InvalidItemWarning, match="1 of 2"):
        out = lenient.fit_transform(df)
    assert np.isfinite(out[0]).all() and np.isnan(out[1]).all()


def test_dedup(tiny_vision_model, monkeypatch):
    seen = []
    original = HFImageEncoder._encode_batch

    def counting(self, prepared):
        seen.append(len(prepared))
        return original(self, prepared)

    monkeypatch.setattr(HFImageEncoder, "_encode_batch", counting)
    a, b = _images(2)
    HFImageEncoder(tiny_vision_model, batch_size=2, verbose=0).fit_transform(
        [a, b, a.copy(), b.copy(), None, a]
    )
    assert sum(seen) == 2


def test_pickle_without_weights_and_clone(tiny_vision_model):
    images = _images(2)
    enc = HFImageEncoder(tiny_vision_model, verbose=0).fit(images)
    expected = enc.transform(images)
    blob = pickle.dumps(enc)
    assert len(blob) < 5_000
    clear_model_cache()
    np.testing.assert_array_equal(pickle.loads(blob).transform(images), expected)
    twin = clone(enc)
    assert twin.get_params() == enc.get_params()
    np.testing.assert_array_equal(twin.fit_transform(images), expected)
    heavy = HFImageEncoder(tiny_vision_model, pickle_weights=True, verbose=0)
    assert len(pickle.dumps(heavy.fit(images))) > len(blob) + 10_000


def test_dataframe_in_column_transformer(tiny_vision_model):
    df = pd.DataFrame({"img": [*_images(2), None], "x": [1.0, 2.0, 3.0]})
    ct = ColumnTransformer(
        [
            ("image", HFImageEncoder(tiny_vision_model, verbose=0), ["img"]),
            ("num", "passthrough", ["x"]),
        ]
    )
    out = ct.fit_transform(df)
    assert out.shape == (3, 33)
    assert np.isnan(out[2, :32]).all() and out[2, 32] == 3.0


def test_missing_folder(tmp_path):
    with pytest.raises(MissingModelError, match="No model folder"):
        HFImageEncoder(tmp_path / "nope").fit(_images(1))
    with pytest.raises(MissingModelError, match="Could not load"):
        HFImageEncoder(tmp_path).fit(_images(1))  # exists, but empty


def test_get_test_params_is_empty():
    assert HFImageEncoder.get_test_params() == []
