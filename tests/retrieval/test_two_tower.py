"""skmm.retrieval._two_tower: TwoTowerRetriever on raw columns."""

from __future__ import annotations

import pickle
import warnings

import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from skmm.retrieval import MissingModalityWarning, TwoTowerRetriever
from tests.finetune.conftest import needs_mobilenet

torch = pytest.importorskip("torch")

COLOURS = {
    "red": (220, 30, 30),
    "green": (30, 200, 40),
    "blue": (30, 40, 220),
    "yellow": (230, 220, 30),
    "black": (10, 10, 10),
    "white": (245, 245, 245),
}


def _table(repeats: int = 4, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    texts, imgs, groups = [], [], []
    for r in range(repeats):
        for g, (name, rgb) in enumerate(COLOURS.items()):
            noise = rng.integers(-20, 20, (40, 36, 3))
            img = np.clip(np.array(rgb) + noise, 0, 255).astype(np.uint8)
            texts.append(f"a {name} square" if r % 2 else f"{name}")
            imgs.append(img)
            groups.append(g)
    return pd.DataFrame({"text": texts, "image": imgs}), np.asarray(groups)


def _classic(**params) -> TwoTowerRetriever:
    """A retriever with locked classic towers (no weights needed)."""
    from skmm.image import ColorHistogramEncoder
    from skmm.text import TfidfTextEncoder

    return TwoTowerRetriever(
        text=TfidfTextEncoder(),
        image=ColorHistogramEncoder(),
        unfreeze=0,
        device="cpu",
        **params,
    )


@pytest.fixture
def tuned(text_encoder, image_encoder):
    return TwoTowerRetriever(
        text=text_encoder,
        image=image_encoder,
        unfreeze={"text": 1, "image": 2},
        embed_dim=8,
        max_epochs=3,
        batch_size=8,
        augment_views=1,
        validation_fraction=0,
        random_state=0,
        device="cpu",
    )


def _checksum(module) -> float:
    return float(sum(p.detach().double().sum() for p in module.parameters()))


@needs_mobilenet
def test_fit_embed_search_score(tuned):
    df, y = _table()
    r = tuned.fit(df, y)
    emb = r.embed(df, modality="image")
    assert emb.shape == (len(df), 8) and emb.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(emb, axis=1), 1.0, atol=1e-5)
    idx, scores = r.index(df).search(df, k=3)
    assert idx.shape == (len(df), 3) and (idx >= 0).all()
    assert np.all(np.diff(scores, axis=1) <= 1e-6)
    assert 0.0 <= r.score(df, y, metric="recall@5") <= 1.0
    assert r.unfreeze_ == {"text": 1, "image": 2}
    assert r.depth_ == {"text": 2, "image": 19}
    assert len(r.loss_curve_) == 3 and r.fit_times_["train"] > 0


@needs_mobilenet
def test_locked_tower_weights_do_not_change_trained_ones_do(
    text_encoder, image_encoder
):
    df, y = _table()
    text_encoder.fit(df["text"])
    image_encoder.fit(df["image"])
    text_before = _checksum(text_encoder._get_model().model)
    image_before = _checksum(image_encoder._get_model().net)
    r = TwoTowerRetriever(
        text=text_encoder,
        image=image_encoder,
        unfreeze={"text": 0, "image": 2},
        embed_dim=8,
        max_epochs=2,
        batch_size=8,
        validation_fraction=0,
        random_state=0,
        device="cpu",
        lr=1e-2,
        tower_lr=1e-2,
    ).fit(df, y)
    # the shared (cached) base models are untouched, whatever trained
    assert _checksum(r.encoders_["text"]._get_model().model) == text_before
    assert _checksum(r.encoders_["image"]._get_model().net) == image_before
    module = r.net_.module_
    assert not list(module.suffixes["query"].parameters())  # locked: nothing
    tuned_blocks = module.suffixes["target"]
    base_blocks = image_encoder._get_model().net.feature_blocks()[-2:]
    base = sum(_checksum(b) for b in base_blocks)
    assert _checksum(tuned_blocks) != pytest.approx(base, abs=1e-6)


@needs_mobilenet
def test_missing_cells_are_left_out_never_zeros(tuned):
    df, y = _table()
    df.loc[3, "text"] = None
    df.loc[5, "image"] = None
    with pytest.warns(MissingModalityWarning, match="2 of 24 rows"):
        r = tuned.fit(df, y)
    assert r.n_pairs_ == 22
    text = r.embed(df, modality="text")
    assert np.isnan(text[3]).all() and np.isfinite(np.delete(text, 3, 0)).all()
    assert np.isnan(r.embed(df, modality="image")[5]).all()


@needs_mobilenet
def test_same_random_state_same_model_cpu(tuned):
    df, y = _table()
    a = clone(tuned).fit(df, y).embed(df, "text")
    b = clone(tuned).fit(df, y).embed(df, "text")
    c = clone(tuned).set_params(random_state=1).fit(df, y).embed(df, "text")
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


@needs_mobilenet
def test_prefix_cache_is_transparent_and_reused(tuned):
    from skmm.finetune import clear_prefix_memory, prefix_stats, reset_prefix_stats

    df, y = _table()
    clear_prefix_memory()
    reset_prefix_stats()
    a = clone(tuned).fit(df, y)
    first = prefix_stats()
    assert first["computed"] > 0
    reset_prefix_stats()
    b = clone(tuned).fit(df, y)  # a second fold / trial: nothing recomputed
    assert prefix_stats()["computed"] == 0
    np.testing.assert_allclose(a.embed(df), b.embed(df), atol=1e-6)
    c = clone(tuned).set_params(cache_prefix=False).fit(df, y)
    np.testing.assert_allclose(a.embed(df), c.embed(df), atol=1e-4)


@needs_mobilenet
def test_prefix_on_disk_with_encoder_cache(text_encoder, image_encoder, tmp_path):
    from skmm.finetune import clear_prefix_memory, prefix_stats, reset_prefix_stats

    df, y = _table()
    r = TwoTowerRetriever(
        text=text_encoder.set_params(cache=tmp_path),
        image=image_encoder.set_params(cache=tmp_path),
        embed_dim=8,
        max_epochs=1,
        batch_size=8,
        unfreeze={"text": 1, "image": 1},
        validation_fraction=0,
        random_state=0,
        device="cpu",
    )
    clear_prefix_memory()
    r.fit(df, y)
    assert list(tmp_path.glob("prefix-*"))
    clear_prefix_memory()  # as in a new process
    reset_prefix_stats()
    clone(r).fit(df, y)
    stats = prefix_stats()
    assert stats["computed"] == 0 and stats["disk_hits"] > 0


@needs_mobilenet
def test_pickle_holds_the_delta_not_the_base(tuned):
    df, y = _table()
    r = tuned.fit(df, y)
    before = r.embed(df, "image")
    blob = pickle.dumps(r)
    base_bytes = sum(
        p.numel() * 4 for p in r.encoders_["image"]._get_model().net.parameters()
    )
    trained_bytes = sum(
        p.numel() * 4 for p in r.net_.module_.parameters() if p.requires_grad
    )
    # the tuned delta (the last 2 blocks: 3.6 MB) and no copy of the base
    assert len(blob) < trained_bytes + 200_000 < base_bytes
    restored = pickle.loads(blob)
    np.testing.assert_allclose(restored.embed(df, "image"), before, atol=1e-5)
    np.testing.assert_allclose(
        restored.embed(df, "text"), r.embed(df, "text"), atol=1e-5
    )
    # unfitted: clone and pickle keep parameters only
    fresh = pickle.loads(pickle.dumps(clone(tuned)))
    assert fresh.get_params()["embed_dim"] == 8
    assert not hasattr(fresh, "encoders_")


@needs_mobilenet
def test_joblib_round_trip(tuned, tmp_path):
    df, y = _table()
    r = tuned.fit(df, y)
    joblib.dump(r, tmp_path / "model.joblib")
    again = joblib.load(tmp_path / "model.joblib")
    np.testing.assert_allclose(
        again.embed(df, "image"), r.embed(df, "image"), atol=1e-5
    )


@needs_mobilenet
@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the CPU fallback")
def test_model_saved_for_cuda_loads_on_cpu(tuned):
    df, y = _table()
    r = tuned.fit(df, y)
    before = r.embed(df, "image")
    r.set_params(device="cuda")
    restored = pickle.loads(pickle.dumps(r))
    with pytest.warns(UserWarning, match="CUDA is not available"):
        after = restored.embed(df, "image")
    np.testing.assert_allclose(after, before, atol=1e-5)


@needs_mobilenet
def test_lora_delta_holds_adapters_only(tuned):
    pytest.importorskip("peft")
    df, y = _table()
    r = clone(tuned).set_params(lora={"text": 2}).fit(df, y)
    names = [n for n, p in r.net_.module_.named_parameters() if p.requires_grad]
    text = [n for n in names if n.startswith("suffixes.query")]
    assert text and all("lora_" in n for n in text)
    restored = pickle.loads(pickle.dumps(r))
    np.testing.assert_allclose(restored.embed(df), r.embed(df), atol=1e-5)


@needs_mobilenet
def test_validation_split_early_stopping_keeps_the_best(tuned):
    df, y = _table(repeats=6)
    r = (
        clone(tuned)
        .set_params(validation_fraction=0.34, max_epochs=6, patience=2, lr=5e-2)
        .fit(df, y)
    )
    assert 1 <= len(r.validation_curve_) <= 6
    assert r.best_epoch_ == int(np.argmax(r.validation_curve_)) + 1
    if len(r.validation_curve_) < 6:  # it stopped early: patience epochs after
        assert len(r.validation_curve_) - r.best_epoch_ == 2


def test_learns_the_pairing_with_locked_classic_towers():
    from skmm.image import ColorHistogramEncoder
    from skmm.text import TfidfTextEncoder

    df, y = _table()
    r = TwoTowerRetriever(
        text=TfidfTextEncoder(),
        image=ColorHistogramEncoder(bins=4),
        unfreeze=0,
        embed_dim=8,
        max_epochs=60,
        lr=0.05,
        batch_size=12,
        validation_fraction=0,
        random_state=0,
        device="cpu",
    )
    r.fit(df, y)
    assert r.loss_curve_[-1] < 0.5 * r.loss_curve_[0]
    assert r.score(df, y, metric="recall@1") == 1.0
    with pytest.raises(ValueError, match="cannot be fine-tuned"):
        clone(r).set_params(unfreeze=1).fit(df, y)


def test_bad_input_is_named():

    df, y = _table()
    r = _classic(max_epochs=1)
    with pytest.raises(ValueError, match=r"no column 'text'.*\['caption', 'image'\]"):
        r.fit(df.rename(columns={"text": "caption"}))
    r.set_params(columns={"text": "caption"}).fit(
        df.rename(columns={"text": "caption"})
    )
    with pytest.raises(ValueError, match="no tower"):
        clone(r).set_params(unfreeze={"audio": 1}).fit(df)
    with pytest.raises(TypeError, match="DataFrame"):
        clone(r).fit(np.zeros((3, 2)))
    with pytest.raises(ValueError, match="cannot embed modality='audio'"):
        r.embed(df, modality="audio")
    with pytest.raises(ValueError, match="y has 3 entries"):
        clone(r).set_params(columns=None).fit(df, y[:3])


@needs_mobilenet
def test_bad_image_follows_on_error(text_encoder, image_encoder):
    from skmm.exceptions import InvalidItemError

    df, y = _table()
    df["image"] = df["image"].astype(object)
    df.at[2, "image"] = "/no/such/file.png"
    r = TwoTowerRetriever(
        text=text_encoder,
        image=image_encoder,
        embed_dim=8,
        max_epochs=1,
        unfreeze={"text": 0, "image": 1},
        validation_fraction=0,
        device="cpu",
        random_state=0,
    )
    with pytest.raises(InvalidItemError, match=r"column 'image', row 2"):
        clone(r).fit(df, y)
    r.set_params(image=image_encoder.set_params(on_error="nan"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r.fit(df, y)
    assert r.n_pairs_ == 23
    from skmm.exceptions import InvalidItemWarning

    with pytest.warns(InvalidItemWarning, match="1 of 24 items in column 'image'"):
        emb = r.embed(df, "image")
    assert np.isnan(emb[2]).all() and np.isfinite(np.delete(emb, 2, 0)).all()


def test_rows_with_identical_cells_group_without_y():
    from skmm.image import ColorHistogramEncoder
    from skmm.text import TfidfTextEncoder

    df, _ = _table()
    r = _classic(max_epochs=1)
    from skmm.finetune._training import prepare_column

    enc_t = TfidfTextEncoder().fit(df["text"])
    enc_i = ColorHistogramEncoder().fit(df["image"])
    prepared = {
        "query": prepare_column(enc_t, list(df["text"]), "text", list(df.index)),
        "target": prepare_column(enc_i, list(df["image"]), "image", list(df.index)),
    }
    groups = r._groups(None, prepared, np.arange(len(df)), len(df))
    # "red" (rows 0, 12) and "a red square" (6, 18) are two texts: 2 groups each
    assert groups[0] == groups[12] and groups[6] == groups[18]
    assert groups[0] != groups[6]
    assert len(np.unique(groups)) == 12


@needs_mobilenet
def test_search_space_is_bounded_by_the_towers_depths(tuned):
    from skmm.metrics import make_retrieval_scorer
    from skmm.model_selection import FusionSearchCV

    df, y = _table(repeats=4)
    est = clone(tuned).set_params(max_epochs=2)
    search = FusionSearchCV(
        est,
        n_trials=2,
        cv=2,
        scoring=make_retrieval_scorer("recall@5"),
        storage=None,
        random_state=0,
    ).fit(df, y)
    for t in search.study_.trials:
        assert t.state.name == "COMPLETE"
        assert 0 <= t.params["unfreeze.text"] <= 2  # the tiny BERT's depth
        assert 0 <= t.params["unfreeze.image"] <= 6
    assert search.best_estimator_.unfreeze == search.best_params_["unfreeze"]
    assert any(t.intermediate_values for t in search.study_.trials)
