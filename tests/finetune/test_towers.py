"""skmm.finetune._towers: cutting encoders into a frozen prefix and a suffix."""

from __future__ import annotations

import numpy as np
import pytest

from tests.finetune.conftest import images, needs_mobilenet

torch = pytest.importorskip("torch")

from skmm.finetune import augment_image, make_tower, resolve_unfreeze  # noqa: E402

TEXTS = ["a red apple", "the deep blue sea at night", "cat", "a cat on a mat"]


def _run(tower, prefixes):
    tower.suffix.eval()
    with torch.no_grad():
        return tower.suffix(*tower.collate(prefixes, "cpu")).numpy()


@pytest.mark.parametrize("unfreeze", [0, 1, 2, "all"])
def test_text_suffix_of_prefix_is_the_encoder_output(text_encoder, unfreeze):
    enc = text_encoder.fit(TEXTS)
    tower = make_tower(enc, unfreeze)
    prefixes = tower.compute_prefix(TEXTS, 0, ["k"] * len(TEXTS))
    np.testing.assert_allclose(_run(tower, prefixes), enc.transform(TEXTS), atol=2e-5)
    assert tower.depth == 2
    assert tower.n_trainable == (2 if unfreeze == "all" else unfreeze)
    # the prefix is cut at the right layer: token states of width 32, one per
    # token (unpadded), or the token ids when the embeddings train too
    if unfreeze == "all":
        assert prefixes[0].dtype == np.int64
    elif unfreeze:
        assert prefixes[0].ndim == 2 and prefixes[0].shape[1] == 32
        assert prefixes[2].shape[0] < prefixes[1].shape[0]


@needs_mobilenet
@pytest.mark.parametrize("unfreeze", [0, 1, 3, "all"])
def test_image_suffix_of_prefix_is_the_encoder_output(image_encoder, unfreeze):
    imgs = images()
    enc = image_encoder.fit(imgs)
    tower = make_tower(enc, unfreeze)
    prepared = [enc._prepare(i) for i in imgs]
    prefixes = tower.compute_prefix(prepared, 0, list("abcd"))
    np.testing.assert_allclose(_run(tower, prefixes), enc.transform(imgs), atol=1e-4)
    assert tower.depth == 19
    expected = {0: (1280,), 1: (320, 1, 1), 3: (160, 1, 1), "all": (3, 32, 32)}
    assert prefixes[0].shape == expected[unfreeze]


@needs_mobilenet
def test_image_views_are_seeded_crops(image_encoder):
    imgs = images(2)
    enc = image_encoder.fit(imgs)
    tower = make_tower(enc, 3, augment_views=2, seed=1)
    prepared = [enc._prepare(i) for i in imgs]
    clean = tower.compute_prefix(prepared, 0, ["a", "b"])
    view1 = tower.compute_prefix(prepared, 1, ["a", "b"])
    again = tower.compute_prefix(prepared, 1, ["a", "b"])
    view2 = tower.compute_prefix(prepared, 2, ["a", "b"])
    assert tower.n_views == 3
    assert not np.allclose(clean[0], view1[0])
    assert not np.allclose(view1[0], view2[0])
    np.testing.assert_array_equal(view1[0], again[0])


def test_augment_image_keeps_size_and_is_deterministic():
    img = images(1, h=30, w=20)[0]
    a = augment_image(img, np.random.default_rng(0), flip=True)
    b = augment_image(img, np.random.default_rng(0), flip=True)
    assert a.shape == img.shape and a.dtype == np.uint8
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, img)


def test_unfreeze_beyond_depth_names_the_depth(text_encoder):
    enc = text_encoder.fit(TEXTS)
    with pytest.raises(ValueError, match=r"unfreeze=5 .*'text'.* only 2 trainable"):
        make_tower(enc, 5)
    with pytest.raises(ValueError, match="non-negative int or 'all'"):
        resolve_unfreeze(-1, 2, "text", "demo")
    with pytest.raises(ValueError, match="non-negative int"):
        resolve_unfreeze(True, 2, "text", "demo")


def test_encoder_without_layers_is_a_locked_tower():
    from skmm.text import TfidfTextEncoder

    enc = TfidfTextEncoder(n_components=3, random_state=0).fit(TEXTS)
    tower = make_tower(enc, 0)
    assert tower.n_trainable == 0 and tower.out_dim == 3
    np.testing.assert_allclose(
        np.stack(tower.compute_prefix(TEXTS, 0, ["k"] * 4)), enc.transform(TEXTS)
    )
    with pytest.raises(ValueError, match="cannot be fine-tuned"):
        make_tower(enc, 1)


def test_quantized_text_encoder_is_refused(tiny_text_model):
    from skmm.text import TextEncoder

    enc = TextEncoder(str(tiny_text_model), quantize="int8", verbose=0, device="cpu")
    enc.fit(TEXTS)
    with pytest.raises(ValueError, match="quantize='int8' cannot be fine-tuned"):
        make_tower(enc, 1)


def test_suffix_is_a_copy_the_shared_model_is_untouched(text_encoder):
    enc = text_encoder.fit(TEXTS)
    shared = enc._get_model().model
    before = {k: v.clone() for k, v in shared.state_dict().items()}
    tower = make_tower(enc, 1)
    with torch.no_grad():
        for p in tower.suffix.parameters():
            p.add_(1.0)
    after = shared.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)


def test_lora_trains_adapters_only(text_encoder):
    pytest.importorskip("peft")
    enc = text_encoder.fit(TEXTS)
    tower = make_tower(enc, 1, lora=4)
    trainable = [n for n, p in tower.suffix.named_parameters() if p.requires_grad]
    frozen = [n for n, p in tower.suffix.named_parameters() if not p.requires_grad]
    assert trainable and all("lora_" in n for n in trainable)
    assert frozen  # the layer's own weights stay as they were
    prefixes = tower.compute_prefix(TEXTS, 0, ["k"] * 4)
    # LoRA's B matrices start at zero: the output is the encoder's
    np.testing.assert_allclose(_run(tower, prefixes), enc.transform(TEXTS), atol=2e-5)


def test_missing_peft_names_the_extra(text_encoder, monkeypatch):
    import sys

    from skmm.exceptions import MissingDependencyError

    monkeypatch.setitem(sys.modules, "peft", None)  # import peft -> ImportError
    enc = text_encoder.fit(TEXTS)
    with pytest.raises(MissingDependencyError, match=r"skmm\[lora\]"):
        make_tower(enc, 1, lora=4)


@needs_mobilenet
def test_suffixes_start_in_training_mode(text_encoder, image_encoder):
    # copies of the encoders' (eval-mode) models: dropout must train
    text = make_tower(text_encoder.fit(TEXTS), 1)
    image = make_tower(image_encoder.fit(images()), 2)
    assert all(m.training for m in text.suffix.modules())
    assert all(m.training for m in image.suffix.modules())
