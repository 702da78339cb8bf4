"""HFAudioEncoder on tiny random wav2vec2 / HuBERT / WavLM folders."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from sklearn.base import clone

from skmm.audio import HFAudioEncoder
from skmm.base._pretrained import clear_model_cache
from skmm.exceptions import InvalidItemError, MissingModelError
from skmm.testing._tiny_audio import make_tiny_audio_model

SR = 16000

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def model_dirs(tmp_path_factory):
    """Tiny wav2vec2 folders: with an attention mask (layer-norm front end,
    like large models) and without (group norm, like wav2vec2-base)."""
    root = tmp_path_factory.mktemp("hf_audio")
    return {
        "mask": make_tiny_audio_model(root / "mask", return_attention_mask=True),
        "nomask": make_tiny_audio_model(root / "nomask", return_attention_mask=False),
    }


@pytest.fixture
def clips(noise, tone):
    return [noise(seconds=0.5, seed=1), tone(330.0, seconds=0.2), noise(0.3, seed=2)]


def test_shapes_missing_and_attributes(model_dirs, clips):
    enc = HFAudioEncoder(model_dirs["mask"], device="cpu", verbose=0)
    X = enc.fit_transform([clips[0], None, clips[1]])
    assert X.shape == (3, 32) and X.dtype == np.float32
    assert np.isnan(X[1]).all() and np.isfinite(X[[0, 2]]).all()
    assert enc.sampling_rate_ == SR and enc.n_layers_ == 3
    assert enc.uses_attention_mask_ and enc.n_features_out_ == 32
    assert HFAudioEncoder.get_test_params() == []


@pytest.mark.parametrize("kind", ["mask", "nomask"])
def test_embedding_does_not_depend_on_the_batch(model_dirs, clips, kind):
    enc = HFAudioEncoder(model_dirs[kind], device="cpu", verbose=0, batch_size=8)
    together = enc.fit_transform(clips)
    alone = np.vstack([enc.transform([c]) for c in clips])
    np.testing.assert_allclose(together, alone, atol=1e-5)
    assert enc.uses_attention_mask_ is (kind == "mask")


def test_layers_pooling_and_normalize(model_dirs, clips):
    folder = model_dirs["mask"]

    def embed(**params):
        enc = HFAudioEncoder(folder, device="cpu", verbose=0, **params)
        return enc.fit_transform(clips)

    last = embed()
    np.testing.assert_allclose(embed(layer=2), last, atol=1e-5)
    assert not np.allclose(embed(layer=0), last)
    assert (embed(pooling="max") >= last - 1e-5).all()
    np.testing.assert_allclose(np.linalg.norm(embed(normalize=True), axis=1), 1.0)
    with pytest.raises(ValueError, match="layer=3 is out of range.*\\[-3, 2\\]"):
        HFAudioEncoder(folder, layer=3, device="cpu", verbose=0).fit([None])


def test_max_seconds_and_resampling(model_dirs, noise, tone):
    folder = model_dirs["mask"]
    long = noise(seconds=1.0, seed=3)
    enc = HFAudioEncoder(folder, max_seconds=0.25, device="cpu", verbose=0).fit([None])
    np.testing.assert_allclose(
        enc.transform([long]), enc.transform([long[: SR // 4]]), atol=1e-6
    )
    # a clip at another rate is resampled to the model's
    enc = HFAudioEncoder(folder, device="cpu", verbose=0).fit([None])
    np.testing.assert_allclose(
        enc.transform([(tone(rate=8000), 8000)]), enc.transform([tone()]), atol=0.05
    )
    # clips shorter than the CNN's receptive field are padded, not an error
    assert np.isfinite(enc.transform([np.array([0.1, -0.1])])).all()


def test_sampling_rate_must_agree(model_dirs):
    folder = model_dirs["mask"]
    with pytest.raises(ValueError, match="disagrees with the model's"):
        HFAudioEncoder(folder, sampling_rate=8000, device="cpu").fit([None])
    enc = HFAudioEncoder(folder, sampling_rate=SR, device="cpu", verbose=0)
    assert enc.fit([None]).sampling_rate_ == SR


def test_missing_folder(tmp_path):
    with pytest.raises(MissingModelError, match="No model folder"):
        HFAudioEncoder(tmp_path / "nowhere", device="cpu").fit([None])
    (tmp_path / "empty").mkdir()
    with pytest.raises(MissingModelError, match="Could not load"):
        HFAudioEncoder(tmp_path / "empty", device="cpu").fit([None])


def test_bad_items_name_their_row(model_dirs, clips, audio_dir):
    enc = HFAudioEncoder(model_dirs["mask"], device="cpu", verbose=0).fit([None])
    with pytest.raises(InvalidItemError, match="row 1 \\(path '.*notes.txt'\\)"):
        enc.transform([clips[0], str(audio_dir / "notes.txt")])


def test_pickle_has_no_weights_and_reloads(model_dirs, clips):
    enc = HFAudioEncoder(model_dirs["mask"], device="cpu", verbose=0).fit(clips)
    X = enc.transform(clips)
    blob = pickle.dumps(enc)
    assert len(blob) < 5_000
    clear_model_cache()
    np.testing.assert_allclose(pickle.loads(blob).transform(clips), X, atol=1e-6)
    heavy = pickle.dumps(clone(enc).set_params(pickle_weights=True).fit([None]))
    assert len(heavy) > 20 * len(blob)
    np.testing.assert_allclose(pickle.loads(heavy).transform(clips), X, atol=1e-6)


def test_clones_share_the_loaded_model(model_dirs, clips, monkeypatch):
    loads = []
    original = HFAudioEncoder._load_model

    def counting(self):
        loads.append(1)
        return original(self)

    monkeypatch.setattr(HFAudioEncoder, "_load_model", counting)
    clear_model_cache()
    enc = HFAudioEncoder(model_dirs["nomask"], device="cpu", verbose=0)
    X = enc.fit_transform(clips)
    np.testing.assert_array_equal(clone(enc).fit_transform(clips), X)
    assert len(loads) == 1


def test_duplicates_are_encoded_once(model_dirs, clips, monkeypatch):
    seen: list[int] = []
    original = HFAudioEncoder._encode_batch

    def counting(self, prepared):
        seen.append(len(prepared))
        return original(self, prepared)

    monkeypatch.setattr(HFAudioEncoder, "_encode_batch", counting)
    enc = HFAudioEncoder(model_dirs["mask"], device="cpu", verbose=0)
    X = enc.fit_transform([clips[0], clips[1], clips[0].copy(), None, clips[1]])
    assert sum(seen) == 2
    np.testing.assert_array_equal(X[0], X[2])


@pytest.mark.parametrize("architecture", ["hubert", "wavlm"])
def test_other_architectures(tmp_path, architecture, clips):
    folder = make_tiny_audio_model(tmp_path, architecture=architecture, hidden_size=16)
    enc = HFAudioEncoder(folder, device="cpu", verbose=0)
    together = enc.fit_transform(clips)
    assert together.shape == (3, 16)
    alone = enc.transform([clips[1]])
    np.testing.assert_allclose(together[1:2], alone, atol=1e-5)
