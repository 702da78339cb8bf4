"""FusionClassifier / FusionRegressor: skmm's multimodal checks.

Modality splitting, per-modality width errors, missing modalities, pickling,
devices, reproducibility, parameters (``fusion__<knob>``), grid search, and
the synthetic XOR task that needs both modalities.
"""

from __future__ import annotations

import io
import pickle
import warnings
from unittest.mock import patch

import joblib
import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, train_test_split

from skmm.fusion import BaseFusion, FusionClassifier, FusionRegressor
from skmm.registry import fusions
from tests.fusion._fusion_data import make_redundant, make_xor

STRATEGIES = fusions.names()
# small, quick training shared by the tests (defaults are for real data)
QUICK = dict(max_epochs=15, batch_size=100, lr=5e-3, random_state=0)
TINY = dict(hidden_dim=8, max_epochs=3, batch_size=64, random_state=0)


def _cols(X, prefix):
    return [c for c in X.columns if c.startswith(prefix + "__")]


@pytest.fixture(scope="module")
def xor_split():
    X, y = make_xor(600, random_state=0)
    return train_test_split(X, y, test_size=200, random_state=0)


@pytest.fixture(scope="module")
def xor_models(xor_split):
    """One classifier per strategy trained on the XOR task (shared)."""
    Xtr, _, ytr, _ = xor_split
    return {
        name: FusionClassifier(fusion=name, **QUICK).fit(Xtr, ytr)
        for name in STRATEGIES
    }


# --------------------------------------------------------------- the XOR task
@pytest.mark.parametrize("name", STRATEGIES)
def test_xor_needs_both_modalities(name, xor_models, xor_split):
    _, Xte, _, yte = xor_split
    acc = xor_models[name].score(Xte, yte)
    if name == "late":
        # one head per modality cannot represent an interaction
        assert acc < 0.7, acc
    else:
        assert acc >= 0.9, (name, acc)


@pytest.mark.parametrize("modality", ["a", "b"])
def test_xor_one_modality_alone_is_chance(modality, xor_split):
    Xtr, Xte, ytr, yte = xor_split
    clf = FusionClassifier(**QUICK).fit(Xtr[_cols(Xtr, modality)], ytr)
    assert list(clf.modalities_) == [modality]
    assert clf.score(Xte[_cols(Xte, modality)], yte) < 0.65


def test_missing_modality_degrades_gracefully():
    X, y = make_redundant(600, random_state=0)
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=200, random_state=0)
    clf = FusionClassifier(fusion="attention", modality_dropout=0.3, **QUICK)
    clf.fit(Xtr, ytr)
    full = clf.score(Xte, yte)
    half = Xte.copy()
    half.iloc[::2, half.columns.get_indexer(_cols(Xte, "b"))] = np.nan
    only_a = Xte.copy()
    only_a[_cols(Xte, "b")] = np.nan
    only_b = Xte.copy()
    only_b[_cols(Xte, "a")] = np.nan
    accs = [clf.score(d, yte) for d in (half, only_a, only_b)]
    assert full >= 0.85, full
    # one modality carries ~75% of the signal: lower, far from chance
    assert all(0.65 <= a <= full + 0.02 for a in accs), (full, accs)
    assert accs[0] >= min(accs[1:]), accs


# ------------------------------------------------------------ pickle, devices
@pytest.mark.parametrize("name", STRATEGIES)
def test_pickle_and_joblib_round_trip(name, xor_models, xor_split):
    clf = xor_models[name]
    Xte = xor_split[1]
    ref = clf.predict_proba(Xte)
    again = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(again.predict_proba(Xte), ref)
    buf = io.BytesIO()
    joblib.dump(clf, buf)
    buf.seek(0)
    np.testing.assert_array_equal(joblib.load(buf).predict_proba(Xte), ref)


def test_cuda_trained_model_unpickles_on_cpu(xor_models, xor_split):
    """Pickle a net whose tensors are tagged as CUDA tensors (as a model
    trained on a GPU is), then load it where CUDA is unavailable."""
    from skorch.exceptions import DeviceWarning

    clf = clone(xor_models["concat"]).fit(xor_split[0], xor_split[2])
    Xte = xor_split[1]
    ref = clf.predict(Xte)
    clf.net_.device = "cuda"
    with patch("torch.serialization.location_tag", lambda storage: "cuda:0"):
        blob = pickle.dumps(clf)
    with patch("torch.cuda.is_available", lambda: False):
        with pytest.warns(DeviceWarning):
            loaded = pickle.loads(blob)
    assert torch.device(loaded.net_.device).type == "cpu"
    np.testing.assert_array_equal(loaded.predict(Xte), ref)


def test_cuda_requested_without_cuda_is_a_clear_error(xor_split):
    with patch("torch.cuda.is_available", lambda: False):
        with pytest.raises(ValueError, match="CUDA is not available"):
            FusionClassifier(device="cuda", **TINY).fit(xor_split[0], xor_split[2])


# ------------------------------------------------------------ reproducibility
def test_same_random_state_same_model_and_rng_untouched(xor_split):
    Xtr, Xte, ytr, _ = xor_split
    est = FusionClassifier(fusion="transformer", early_stopping=True, **TINY)
    torch.manual_seed(123)
    state = torch.random.get_rng_state()
    a = est.fit(Xtr, ytr).predict_proba(Xte)
    assert torch.equal(torch.random.get_rng_state(), state), "global RNG moved"
    b = clone(est).fit(Xtr, ytr).predict_proba(Xte)
    c = est.fit(Xtr, ytr).predict_proba(Xte)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(a, c)
    other = clone(est).set_params(random_state=1).fit(Xtr, ytr).predict_proba(Xte)
    assert not np.array_equal(a, other)


# --------------------------------------------------------- modality splitting
def test_blocks_from_prefixes_and_from_modalities(xor_split):
    Xtr, _, ytr, _ = xor_split
    clf = FusionClassifier(**TINY).fit(Xtr, ytr)
    assert {k: v.tolist() for k, v in clf.modalities_.items()} == {
        "a": [0, 1, 2, 3],
        "b": [4, 5, 6, 7],
    }
    assert list(clf.feature_names_in_) == list(Xtr.columns)
    arr = FusionClassifier(modalities={"a": 4, "b": 4}, **TINY).fit(Xtr.values, ytr)
    assert list(arr.modalities_) == ["a", "b"]
    np.testing.assert_allclose(
        arr.predict_proba(Xtr.values[:5]), clf.predict_proba(Xtr[:5]), rtol=1e-5
    )
    one = FusionClassifier(**TINY).fit(Xtr.values, ytr)
    assert list(one.modalities_) == ["x"] and one.modalities_["x"].size == 8


def test_wrong_width_names_the_modality(xor_split):
    Xtr, Xte, ytr, _ = xor_split
    clf = FusionClassifier(**TINY).fit(Xtr, ytr)
    with pytest.raises(ValueError, match=r"modality 'b' has 3 columns.*fitted with 4"):
        clf.predict(Xte.drop(columns=["b__f3"]))
    with pytest.raises(ValueError, match=r"modality 'b' is missing"):
        clf.predict(Xte[_cols(Xte, "a")])
    extra = Xte.assign(c__f0=1.0)
    with pytest.raises(ValueError, match=r"\['c'\] were not seen at fit"):
        clf.predict(extra)
    arr = FusionClassifier(modalities={"a": 4, "b": 4}, **TINY).fit(Xtr.values, ytr)
    with pytest.raises(
        ValueError, match=r"X has 7 features, but FusionClassifier is expecting 8.*'b'"
    ):
        arr.predict(Xte.values[:, :7])


def test_partially_prefixed_names_are_an_error(xor_split):
    Xtr, _, ytr, _ = xor_split
    with pytest.raises(ValueError, match="no 'modality__' prefix"):
        FusionClassifier(**TINY).fit(Xtr.rename(columns={"a__f0": "zzz"}), ytr)


# ----------------------------------------------------------- missing modality
@pytest.mark.parametrize("missing", ["zero", "learned"])
def test_nan_blocks_are_missing_modalities(missing, xor_split):
    Xtr, Xte, ytr, _ = xor_split
    Xtr = Xtr.copy()
    Xtr.iloc[:50, :4] = np.nan  # modality a absent in 50 training rows
    Xtr.iloc[50:60, 5] = np.nan  # isolated missing values: imputed
    clf = FusionClassifier(missing=missing, modality_dropout=0.2, **TINY)
    clf.fit(Xtr, ytr)
    placeholder = clf.net_.module_.placeholder
    if missing == "learned":
        assert placeholder.values["a"].abs().sum() > 0, "placeholder not trained"
    Xp = Xte.copy()
    Xp.iloc[0, :4] = np.nan
    Xp.iloc[1, 4:] = np.nan
    proba = clf.predict_proba(Xp)
    assert np.isfinite(proba).all()


def test_rows_without_any_modality_are_named(xor_split):
    Xtr, Xte, ytr, _ = xor_split
    clf = FusionClassifier(**TINY).fit(Xtr, ytr)
    X = Xte.iloc[:6].copy()
    X.index = [f"r{i}" for i in range(6)]
    X.iloc[[2, 4]] = np.nan
    with pytest.raises(ValueError, match=r"Rows \['r2', 'r4'\] have no modality"):
        clf.predict(X)
    Xtr = Xtr.copy()
    Xtr.iloc[3] = np.nan
    with pytest.raises(ValueError, match=r"Rows \[3\] have no modality"):
        clone(clf).fit(Xtr.values, ytr)


def test_a_modality_never_present_at_fit_warns(xor_split):
    Xtr, _, ytr, _ = xor_split
    Xtr = Xtr.copy()
    Xtr[_cols(Xtr, "b")] = np.nan
    with pytest.warns(UserWarning, match=r"\['b'\] are absent"):
        FusionClassifier(**TINY).fit(Xtr, ytr)


# ---------------------------------------------------------------- parameters
def test_fusion_knobs_are_sklearn_parameters():
    est = FusionClassifier(fusion="lowrank", fusion__rank=3)
    assert est.get_params()["fusion__rank"] == 3
    assert "fusion__rank=3" in repr(est)
    twin = clone(est)
    assert twin.get_params()["fusion__rank"] == 3 and twin is not est
    est.set_params(fusion__rank=5, hidden_dim=16)
    assert est.get_params()["fusion__rank"] == 5 and est.hidden_dim == 16
    assert twin.get_params()["fusion__rank"] == 3, "clones share their knobs"


def test_typos_get_a_suggestion():
    with pytest.raises(ValueError, match="Did you mean 'fusion__rank'"):
        FusionClassifier().set_params(fusion__rnak=2)
    with pytest.raises(ValueError, match="Did you mean 'hidden_dim'"):
        FusionClassifier().set_params(hiden_dim=2)
    with pytest.raises(TypeError, match="Did you mean 'hidden_dim'"):
        FusionClassifier(hiden_dim=2)


def test_knobs_checked_against_the_chosen_strategy(xor_split):
    Xtr, _, ytr, _ = xor_split
    # a knob of another strategy is ignored (one grid can span strategies)
    FusionClassifier(fusion="concat", fusion__rank=3, **TINY).fit(Xtr, ytr)
    est = FusionClassifier(fusion="lowrank", **TINY)
    est._fusion_settings["fusion__bogus"] = 1  # bypassing set_params' check
    with pytest.raises(ValueError, match="'fusion__bogus' is not a setting"):
        est.fit(Xtr, ytr)


def test_unknown_fusion_lists_the_known_ones(xor_split):
    with pytest.raises(ValueError, match="'fusion' parameter.*'lowrank'"):
        FusionClassifier(fusion="sum").fit(xor_split[0], xor_split[2])


def test_transformer_knob_error_is_clear(xor_split):
    est = FusionClassifier(fusion="transformer", hidden_dim=10, fusion__n_heads=4)
    with pytest.raises(ValueError, match="divisible by n_heads"):
        est.fit(xor_split[0], xor_split[2])


def test_grid_search_over_fusion_and_knobs(xor_split):
    Xtr, _, ytr, _ = xor_split
    grid = GridSearchCV(
        FusionClassifier(**TINY),
        {"fusion": ["concat", "lowrank"], "hidden_dim": [4, 8], "fusion__rank": [2]},
        cv=2,
    )
    grid.fit(Xtr[:200], ytr[:200])
    assert len(grid.cv_results_["params"]) == 4
    assert grid.best_estimator_.get_params()["fusion__rank"] == 2
    assert grid.best_params_["fusion"] in ("concat", "lowrank")


# ---------------------------------------------------- custom fusion modules
class _SumFusion(BaseFusion):
    """Sums one projection per modality (a plugin-style module)."""

    name = "sum"

    def __init__(self, dims, *, hidden_dim=64, n_outputs=1, dropout=0.1, scale=1.0):
        super().__init__(
            dims, hidden_dim=hidden_dim, n_outputs=n_outputs, dropout=dropout
        )
        self.scale = scale
        self.proj = torch.nn.ModuleDict(
            {m: torch.nn.Linear(d, n_outputs) for m, d in dims.items()}
        )

    def forward(self, blocks, mask):
        outs = torch.stack([self.proj[m](blocks[m]) for m in self.modalities], 1)
        return self.scale * (outs * mask.unsqueeze(-1)).sum(1)


def test_custom_fusion_class_and_registry(xor_split):
    Xtr, Xte, ytr, _ = xor_split
    clf = FusionClassifier(fusion=_SumFusion, fusion__scale=2.0, **TINY)
    clf.fit(Xtr, ytr)
    assert clf.net_.module_.fusion.scale == 2.0
    fusions.register("sum-test", _SumFusion)
    try:
        reg = FusionRegressor(fusion="sum-test", fusion__scale=0.5, **TINY)
        reg.fit(Xtr, Xtr["a__f0"].to_numpy())
        assert reg.predict(Xte).shape == (len(Xte),)
        assert pickle.loads(pickle.dumps(reg)).predict(Xte).shape == (len(Xte),)
    finally:
        fusions.unregister("sum-test")


# ----------------------------------------------------------- training options
def test_early_stopping_stops_and_keeps_best(xor_split):
    Xtr, _, ytr, _ = xor_split
    clf = FusionClassifier(
        early_stopping=True,
        n_iter_no_change=2,
        validation_fraction=0.2,
        hidden_dim=8,
        max_epochs=200,
        lr=0.05,
        random_state=0,
    ).fit(Xtr, ytr)
    assert clf.n_iter_ < 200
    hist = clf.net_.history
    assert "valid_loss" in hist[-1]


def test_sample_weight(xor_split):
    Xtr, Xte, ytr, _ = xor_split
    base = FusionClassifier(**TINY).fit(Xtr, ytr)
    ones = FusionClassifier(**TINY).fit(Xtr, ytr, sample_weight=np.ones(len(ytr)))
    np.testing.assert_array_equal(base.predict_proba(Xte), ones.predict_proba(Xte))
    w = np.where(ytr == 1, 10.0, 0.1)
    heavy = FusionClassifier(**TINY).fit(Xtr, ytr, sample_weight=w)
    assert heavy.predict_proba(Xte)[:, 1].mean() > base.predict_proba(Xte)[:, 1].mean()
    with pytest.raises(ValueError, match="sample_weight.shape"):
        FusionClassifier(**TINY).fit(Xtr, ytr, sample_weight=np.ones(3))


def test_multiclass_outputs_and_string_labels(xor_split):
    Xtr, Xte, ytr, _ = xor_split
    labels = np.array(["cat", "dog", "eel"])[(ytr + (Xtr["a__f1"] > 1)).to_numpy()]
    clf = FusionClassifier(fusion="gated", **TINY).fit(Xtr, labels)
    assert list(clf.classes_) == ["cat", "dog", "eel"]
    assert clf.decision_function(Xte).shape == (len(Xte), 3)
    np.testing.assert_allclose(clf.predict_proba(Xte).sum(axis=1), 1.0)
    assert set(clf.predict(Xte)) <= set(clf.classes_)
    binary = FusionClassifier(**TINY).fit(Xtr, ytr)
    d = binary.decision_function(Xte)
    assert d.shape == (len(Xte),)
    np.testing.assert_array_equal(binary.predict(Xte), (d > 0).astype(int))


@pytest.mark.parametrize("name", ["concat", "gated", "tensor"])
def test_multi_output_regression(name):
    X, _ = make_xor(300, random_state=1)
    Y = np.c_[X["a__f0"] * X["b__f0"], X["a__f1"] + X["b__f1"]]
    reg = FusionRegressor(
        fusion=name, max_epochs=20, batch_size=100, lr=2e-2, random_state=0
    )
    reg.fit(X, Y)
    pred = reg.predict(X)
    assert pred.shape == (300, 2)
    assert reg.score(X, Y) > 0.6
    reg1 = clone(reg).set_params(max_epochs=2).fit(X, Y[:, 1])
    assert reg1.predict(X).shape == (300,)


def test_verbose_prints_and_callbacks_are_called(xor_split, capsys):
    from skorch.callbacks import Callback

    class Count(Callback):
        def initialize(self):
            self.epochs = 0
            return self

        def on_epoch_end(self, net, **kwargs):
            self.epochs += 1

    counter = Count()
    FusionClassifier(verbose=1, callbacks=[counter], **TINY).fit(
        xor_split[0], xor_split[2]
    )
    assert counter.epochs == TINY["max_epochs"]
    assert "train_loss" in capsys.readouterr().out
    FusionClassifier(**TINY).fit(xor_split[0], xor_split[2])
    assert capsys.readouterr().out == ""


def test_fit_accepts_readonly_and_float32(xor_split):
    Xtr, Xte, ytr, _ = xor_split
    X = Xtr.to_numpy(dtype=np.float32)
    X.setflags(write=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        clf = FusionClassifier(modalities={"a": 4, "b": 4}, **TINY).fit(X, ytr)
        clf.predict(X)


def test_dataframe_with_integer_index_labels_in_messages():
    X = pd.DataFrame({"a__f0": [1.0, np.nan], "b__f0": [2.0, np.nan]}, index=[10, 11])
    clf = FusionRegressor(**TINY).fit(
        X.iloc[:1].pipe(lambda d: pd.concat([d] * 4)), [0, 1, 2, 3]
    )
    with pytest.raises(ValueError, match=r"Rows \[11\]"):
        clf.predict(X)
