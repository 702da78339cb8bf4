"""skmm.fusion._tuned: fusion estimators that fine-tune their encoders."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from skmm.fusion import FusionClassifier, FusionRegressor
from tests.finetune.conftest import needs_mobilenet

torch = pytest.importorskip("torch")

COLOURS = {"red": (220, 30, 30), "green": (30, 200, 40), "blue": (30, 40, 220)}
STRATEGIES = [
    "concat",
    "late",
    "attention",
    "gated",
    "tensor",
    "lowrank",
    "transformer",
]


def _table(repeats: int = 8, seed: int = 0):
    rng = np.random.default_rng(seed)
    texts, imgs, y = [], [], []
    for r in range(repeats):
        for g, (name, rgb) in enumerate(COLOURS.items()):
            noise = rng.integers(-30, 30, (40, 36, 3))
            imgs.append(np.clip(np.array(rgb) + noise, 0, 255).astype(np.uint8))
            texts.append(name if r % 2 else f"a {name} thing")
            y.append(g)
    return pd.DataFrame({"text": texts, "image": imgs}), np.asarray(y)


@pytest.fixture
def tuned(text_encoder, image_encoder):
    return FusionClassifier(
        encoders={"text": text_encoder, "image": image_encoder},
        unfreeze={"text": 1, "image": 2},
        max_epochs=3,
        batch_size=8,
        random_state=0,
        device="cpu",
    )


def _checksum(module) -> float:
    return float(sum(p.detach().double().sum() for p in module.parameters()))


@needs_mobilenet
@pytest.mark.parametrize("fusion", STRATEGIES)
def test_every_strategy_trains_the_encoders_below_it(tuned, fusion):
    df, y = _table(4)
    clf = clone(tuned).set_params(fusion=fusion).fit(df, y)
    # the towers trained in training mode (dropout on), as the fusion did
    assert all(m.training for m in clf.net_.module_.suffixes.modules())
    proba = clf.predict_proba(df)
    assert proba.shape == (len(df), 3)
    np.testing.assert_allclose(proba.sum(1), 1.0, atol=1e-6)
    assert clf.unfreeze_ == {"text": 1, "image": 2}
    trained = [n for n, p in clf.net_.module_.named_parameters() if p.requires_grad]
    assert any(n.startswith("suffixes.text") for n in trained)
    assert any(n.startswith("suffixes.image") for n in trained)
    assert list(clf.feature_names_in_) == ["text", "image"]


@needs_mobilenet
def test_learns_and_default_stays_frozen(text_encoder, image_encoder):
    df, y = _table()
    text_encoder.fit(df["text"])
    before = _checksum(text_encoder._get_model().model)
    clf = FusionClassifier(
        encoders={"text": text_encoder, "image": image_encoder},
        max_epochs=30,
        lr=1e-2,
        random_state=0,
        device="cpu",
    ).fit(df, y)
    assert clf.unfreeze_ == {"text": 0, "image": 0}  # the default: frozen
    assert not list(clf.net_.module_.suffixes.parameters())
    assert clf.score(df, y) == 1.0
    assert _checksum(clf.encoders_["text"]._get_model().model) == before


@needs_mobilenet
def test_missing_cell_is_masked_not_zeros(tuned):
    from skmm.fusion._tuned import tuned_features

    df, y = _table()
    df.loc[4, "text"] = None
    clf = clone(tuned).set_params(missing="learned").fit(df, y)
    feats = tuned_features(clf, df)
    width = clf.net_.module_.towers["text"].out_dim
    assert np.isnan(feats[4, :width]).all() and np.isfinite(feats[4, width:]).all()
    inner = clf.net_.module_.inner
    _, mask = inner.split(torch.from_numpy(feats[4:5]))
    assert mask.tolist() == [[False, True]]  # text absent, image present
    # feeding zeros for the text would be a different (present) input
    zeros = feats[4:5].copy()
    zeros[:, :width] = 0.0
    with torch.no_grad():
        a = inner.eval()(torch.from_numpy(feats[4:5]))
        b = inner(torch.from_numpy(zeros))
    assert not torch.allclose(a, b)
    assert np.isfinite(clf.predict_proba(df.iloc[[4]])).all()


@needs_mobilenet
def test_pickle_holds_the_delta_and_reloads(tuned):
    df, y = _table()
    clf = clone(tuned).set_params(lora={"text": 2}).fit(df, y)
    before = clf.predict_proba(df)
    blob = pickle.dumps(clf)
    base = sum(
        p.numel() * 4 for p in clf.encoders_["image"]._get_model().net.parameters()
    )
    assert len(blob) < base
    restored = pickle.loads(blob)
    assert "net_" not in restored.__dict__  # rebuilt from base + delta on use
    np.testing.assert_allclose(restored.predict_proba(df), before, atol=1e-6)
    np.testing.assert_array_equal(restored.predict(df), clf.predict(df))
    text = [
        n
        for n, p in clf.net_.module_.named_parameters()
        if p.requires_grad and n.startswith("suffixes.text")
    ]
    assert text and all("lora_" in n for n in text)


@needs_mobilenet
def test_same_random_state_same_model(tuned):
    df, y = _table()
    a = clone(tuned).fit(df, y).predict_proba(df)
    b = clone(tuned).fit(df, y).predict_proba(df)
    np.testing.assert_array_equal(a, b)


@needs_mobilenet
def test_regressor_and_bad_input(text_encoder, image_encoder):
    df, y = _table(4)
    reg = FusionRegressor(
        encoders={"image": image_encoder},
        unfreeze=1,
        max_epochs=2,
        random_state=0,
        device="cpu",
    ).fit(df, y.astype(float))
    assert reg.predict(df).shape == (len(df),)
    with pytest.raises(ValueError, match=r"no column 'photo' for the 'image'"):
        clone(reg).set_params(columns={"image": "photo"}).fit(df, y.astype(float))
    with pytest.raises(ValueError, match=r"unfreeze=30 .* only 19 trainable"):
        clone(reg).set_params(unfreeze=30).fit(df, y.astype(float))
    with pytest.raises(TypeError, match="DataFrame of raw columns"):
        clone(reg).fit(np.zeros((4, 2)), np.zeros(4))
    with pytest.raises(ValueError, match="no tower"):
        clone(reg).set_params(unfreeze={"text": 1}).fit(df, y.astype(float))


@needs_mobilenet
def test_search_chooses_how_deep_to_fine_tune(tuned):
    from skmm.model_selection import FusionSearchCV

    df, y = _table(6)
    est = clone(tuned).set_params(unfreeze=0, max_epochs=2)
    search = FusionSearchCV(
        est,
        n_trials=2,
        cv=2,
        storage=None,
        random_state=0,
    ).fit(df, y)
    trials = search.study_.trials
    assert all(
        "unfreeze.text" in t.params and "unfreeze.image" in t.params for t in trials
    )
    assert all(0 <= t.params["unfreeze.text"] <= 2 for t in trials)  # tiny BERT: 2
    best = search.best_estimator_
    assert best.unfreeze == search.best_params_["unfreeze"]
    assert search.best_estimator_.predict(df).shape == (len(df),)
    # per-epoch reports reached the study: pruning works here too
    assert any(t.intermediate_values for t in trials)
