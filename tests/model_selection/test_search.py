from __future__ import annotations

import os
import pickle
import subprocess
import sys
import textwrap
import time
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

optuna = pytest.importorskip("optuna")

from skmm.fusion import FusionClassifier  # noqa: E402
from skmm.model_selection import (  # noqa: E402
    FusionSearchCV,
    fusion_space,
)


def _data(n=120, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n, 6)).astype(np.float32)
    y = (X[:, 0] + X[:, 3] > 0).astype(int)
    return X, y


def _est(**kw):
    params = dict(
        modalities={"a": 3, "b": 3}, max_epochs=4, random_state=0, device="cpu"
    )
    params.update(kw)
    return FusionClassifier(**params)


def test_default_space_draws_strategy_then_its_knobs():
    X, y = _data()
    search = FusionSearchCV(
        _est(), n_trials=6, cv=3, storage=None, random_state=0, pruner=None
    ).fit(X, y)
    res = search.cv_results_
    assert len(res["params"]) == 6
    for p in res["params"]:
        assert {"fusion", "lr", "hidden_dim", "dropout", "weight_decay"} <= set(p)
        own = {k for k in p if k.startswith("fusion__")}
        if p["fusion"] == "lowrank":
            assert own == {"fusion__rank"}
        if p["fusion"] in ("concat", "late", "gated"):
            assert own == {"fusion__n_layers"}
    # GridSearchCV's layout
    for key in (
        "mean_test_score",
        "std_test_score",
        "rank_test_score",
        "split0_test_score",
        "split2_test_score",
        "mean_fit_time",
        "param_fusion",
        "param_lr",
    ):
        assert len(res[key]) == 6, key
    assert isinstance(res["param_fusion"], np.ma.MaskedArray)
    df = pd.DataFrame(res)
    assert df.loc[search.best_index_, "rank_test_score"] == 1
    assert search.best_score_ == pytest.approx(res["mean_test_score"].max())
    assert search.best_estimator_.fusion == search.best_params_["fusion"]
    assert search.predict(X[:5]).shape == (5,)
    assert 0 <= search.score(X, y) <= 1
    assert search.n_splits_ == 3
    assert search.study_.study_name == search.study_name_


def test_same_seed_same_best_params():
    X, y = _data()
    kw = dict(n_trials=5, cv=3, storage=None, random_state=3, refit=False)
    a = FusionSearchCV(_est(), **kw).fit(X, y)
    b = FusionSearchCV(_est(), **kw).fit(X, y)
    assert a.best_params_ == b.best_params_
    np.testing.assert_array_equal(
        a.cv_results_["mean_test_score"], b.cv_results_["mean_test_score"]
    )
    c = FusionSearchCV(_est(), **{**kw, "random_state": 4}).fit(X, y)
    assert c.cv_results_["params"] != a.cv_results_["params"]


def test_grid_sampler_matches_gridsearchcv():
    X, y = _data(150, seed=1)
    grid = {"fusion": ["concat", "late", "gated"], "lr": [1e-3, 3e-2]}
    cv = StratifiedKFold(3, shuffle=True, random_state=0)
    gs = GridSearchCV(_est(), grid, cv=cv).fit(X, y)
    fs = FusionSearchCV(
        _est(), grid, sampler="grid", pruner=None, n_trials=None, cv=cv, storage=None
    ).fit(X, y)
    assert len(fs.cv_results_["params"]) == 6  # the whole grid, each once
    assert fs.best_params_ == gs.best_params_
    assert fs.best_score_ == pytest.approx(gs.best_score_, abs=1e-12)
    ours = {
        tuple(sorted(p.items())): s
        for p, s in zip(fs.cv_results_["params"], fs.cv_results_["mean_test_score"])
    }
    for p, s in zip(gs.cv_results_["params"], gs.cv_results_["mean_test_score"]):
        assert ours[tuple(sorted(p.items()))] == pytest.approx(s, abs=1e-12)


def test_pruning_stops_trials_early():
    X, y = _data()
    # a threshold nobody reaches: every trial is pruned after the warm-up
    pruner = optuna.pruners.ThresholdPruner(lower=1.5, n_warmup_steps=2)
    search = FusionSearchCV(
        _est(max_epochs=30),
        {"lr": [1e-3, 2e-3, 3e-3]},
        sampler="grid",
        n_trials=3,
        cv=3,
        pruner=pruner,
        storage=None,
        refit=False,
        error_score=np.nan,
    )
    with pytest.raises(ValueError, match="No trial completed"):
        search.fit(X, y)
    # the study is there to inspect: every trial pruned at epoch 2 of 30 (the
    # first step past the warm-up)
    trials = search.study_.trials
    assert [t.state.name for t in trials] == ["PRUNED"] * 3
    assert all(t.user_attrs["n_epochs"] == 2 for t in trials)
    assert all(t.user_attrs["pruned_at_epoch"] == 2 for t in trials)
    assert all(sorted(t.intermediate_values) == [1, 2] for t in trials)


def test_median_pruner_prunes_a_hopeless_trial(tmp_path):
    X, y = _data(200)
    db = tmp_path / "p.db"
    # five good learning rates first, then a hopeless one, queued in the study
    study = optuna.create_study(
        study_name="queued", storage=f"sqlite:///{db}", direction="maximize"
    )
    lrs = [3e-2, 2.9e-2, 3.1e-2, 2.8e-2, 3.2e-2, 1e-7]
    for lr in lrs:
        study.enqueue_trial({"lr": lr})
    search = FusionSearchCV(
        _est(max_epochs=20, fusion="concat"),
        {"lr": lrs},
        n_trials=6,
        cv=2,
        pruner=optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=3),
        storage=db,
        study_name="queued",
        refit=False,
    ).fit(X, y)
    res = search.cv_results_
    assert list(res["state"]) == ["COMPLETE"] * 5 + ["PRUNED"]
    assert res["params"][5] == {"lr": 1e-7}
    assert (res["n_epochs"][:5] == 40).all()  # 2 folds x 20 epochs
    assert res["n_epochs"][5] < 20  # stopped inside its first fold
    assert np.isnan(res["mean_test_score"][5]) and res["rank_test_score"][5] == 6


def test_a_configuration_drawn_again_is_not_trained_again():
    X, y = _data()
    search = FusionSearchCV(
        _est(),
        {"fusion": ["concat"], "lr": [1e-2]},
        n_trials=3,
        cv=2,
        storage=None,
        pruner=None,
        refit=False,
    ).fit(X, y)
    res = search.cv_results_
    assert list(res["n_epochs"]) == [8, 0, 0]  # 2 folds x 4 epochs, then reused
    assert [t.user_attrs.get("duplicate_of") for t in search.study_.trials] == [
        None,
        0,
        0,
    ]
    assert len(set(res["mean_test_score"])) == 1
    np.testing.assert_array_equal(res["split1_test_score"], res["split1_test_score"][0])


def test_an_exhausted_discrete_space_ends_the_search():
    X, y = _data()
    search = FusionSearchCV(
        _est(max_epochs=2),
        {"lr": [1e-2, 3e-2]},
        n_trials=200,
        cv=2,
        storage=None,
        pruner=None,
        refit=False,
        random_state=0,
    ).fit(X, y)
    n = len(search.cv_results_["params"])
    assert n < 60  # stopped after 25 repeats in a row, not 200 trials
    assert (search.cv_results_["n_epochs"] > 0).sum() == 2  # each lr trained once


def test_failing_trial_is_recorded_and_the_study_goes_on():
    X, y = _data()
    grid = {"fusion": ["concat"], "lr": [1e-3, -1.0]}  # lr=-1 fails at fit
    search = FusionSearchCV(
        _est(), grid, sampler="grid", n_trials=None, cv=3, storage=None, pruner=None
    )
    with pytest.warns(UserWarning, match="1 of 2 trials failed"):
        search.fit(X, y)
    res = search.cv_results_
    failed = res["state"] == "FAIL"
    assert failed.sum() == 1
    assert "lr" in res["error"][failed][0]
    assert np.isnan(res["mean_test_score"][failed]).all()
    assert search.best_params_["lr"] == 1e-3
    with pytest.raises(ValueError, match="'lr' parameter"):
        FusionSearchCV(
            _est(),
            grid,
            sampler="grid",
            n_trials=None,
            cv=3,
            storage=None,
            error_score="raise",
        ).fit(X, y)


def test_all_trials_failing_raises_with_the_errors():
    X, y = _data()
    with pytest.raises(ValueError, match="All 2 trials failed.*'lr' parameter"):
        FusionSearchCV(
            _est(),
            {"lr": [-1.0, -2.0]},
            sampler="grid",
            n_trials=None,
            cv=2,
            storage=None,
        ).fit(X, y)


def test_clone_and_pickle(tmp_path):
    X, y = _data()
    search = FusionSearchCV(
        _est(), n_trials=3, cv=2, storage=tmp_path / "s.db", random_state=0
    )
    c = clone(search)
    assert c.get_params()["n_trials"] == 3 and c.storage == tmp_path / "s.db"
    search.fit(X, y)
    again = pickle.loads(pickle.dumps(search))
    np.testing.assert_array_equal(again.predict(X), search.predict(X))
    assert again.best_params_ == search.best_params_
    assert len(again.study_.trials) == 3


def test_pipeline_prefixes_and_pruning_inside_it():
    X, y = _data()
    pipe = make_pipeline(StandardScaler(), _est(max_epochs=20))
    search = FusionSearchCV(
        pipe,
        n_trials=3,
        cv=2,
        storage=None,
        random_state=0,
        pruner=optuna.pruners.ThresholdPruner(lower=1.5, n_warmup_steps=1),
        refit=False,
    )
    with pytest.raises(ValueError, match="No trial completed"):
        search.fit(X, y)
    params = search.study_.trials[0].params
    assert "fusion" in params
    assert all(t.user_attrs["n_epochs"] == 1 for t in search.study_.trials)
    ok = FusionSearchCV(pipe, n_trials=2, cv=2, storage=None, random_state=0).fit(X, y)
    assert all(k.startswith("fusionclassifier__") for k in ok.best_params_)


def test_override_part_of_the_default_space():
    from functools import partial

    X, y = _data()
    space = partial(
        fusion_space, overrides={"fusion": ["lowrank"], "lowrank.rank": [3], "lr": 0.01}
    )
    search = FusionSearchCV(
        _est(), space, n_trials=2, cv=2, storage=None, random_state=0
    ).fit(X, y)
    for p in search.cv_results_["params"]:
        assert p["fusion"] == "lowrank" and p["fusion__rank"] == 3 and p["lr"] == 0.01
    pickle.dumps(search)  # partial of a module function pickles


def test_default_storage_is_a_file_in_the_working_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    X, y = _data()
    FusionSearchCV(_est(), n_trials=2, cv=2, random_state=0).fit(X, y)
    assert (tmp_path / "skmm_optuna.db").exists()


def test_resume_same_study_counts_finished_trials(tmp_path):
    X, y = _data()
    kw = dict(cv=2, storage=tmp_path / "s.db", study_name="mine", random_state=0)
    first = FusionSearchCV(_est(), n_trials=2, **kw).fit(X, y)
    second = FusionSearchCV(_est(), n_trials=4, **kw).fit(X, y)
    assert len(second.cv_results_["params"]) == 4
    np.testing.assert_array_equal(
        second.cv_results_["mean_test_score"][:2], first.cv_results_["mean_test_score"]
    )
    third = FusionSearchCV(_est(), n_trials=4, **kw).fit(X, y)  # nothing to do
    assert len(third.study_.trials) == 4


_KILL_SCRIPT = textwrap.dedent(
    """
    import sys, numpy as np
    sys.path.insert(0, {tests!r})
    from model_selection.test_search import _data, _est
    from skmm.model_selection import FusionSearchCV
    X, y = _data()
    FusionSearchCV(_est(max_epochs=40), n_trials=50, cv=2, storage={db!r},
                   study_name="killed", random_state=0, pruner=None).fit(X, y)
    """
)


def test_resume_after_kill_9(tmp_path):
    db = str(tmp_path / "k.db")
    script = _KILL_SCRIPT.format(
        tests=os.path.dirname(os.path.dirname(__file__)), db=db
    )
    proc = subprocess.Popen([sys.executable, "-c", script])
    storage = f"sqlite:///{db}"
    deadline = time.time() + 240
    done = []
    try:
        while time.time() < deadline:
            time.sleep(1.0)
            try:
                study = optuna.load_study(study_name="killed", storage=storage)
            except Exception:
                continue
            done = [t for t in study.trials if t.state.name == "COMPLETE"]
            if len(done) >= 2:
                break
        assert proc.poll() is None, "the worker ended before it could be killed"
        proc.kill()  # SIGKILL: no cleanup of any kind
        proc.wait()
    finally:
        if proc.poll() is None:
            proc.kill()
    assert len(done) >= 2
    before = {
        t.number: t.value
        for t in optuna.load_study(study_name="killed", storage=storage).trials
        if t.state.name == "COMPLETE"
    }
    X, y = _data()
    target = len(before) + 2
    search = FusionSearchCV(
        _est(max_epochs=40),
        n_trials=target,
        cv=2,
        storage=db,
        study_name="killed",
        random_state=0,
        pruner=None,
        refit=False,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        search.fit(X, y)
    after = {
        t.number: t.value for t in search.study_.trials if t.state.name == "COMPLETE"
    }
    for number, value in before.items():  # nothing finished was lost
        assert after[number] == value
    finished = [s for s in search.cv_results_["state"] if s in ("COMPLETE", "PRUNED")]
    assert len(finished) >= target


def test_two_worker_processes_share_a_journal_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    X, y = _data()
    search = FusionSearchCV(
        _est(), n_trials=6, cv=2, n_jobs=2, random_state=0, pruner=None
    ).fit(X, y)
    assert (tmp_path / "skmm_optuna.journal").exists()
    numbers = list(search.cv_results_["trial_number"])
    assert len(numbers) == len(set(numbers))
    assert 6 <= len(numbers) <= 7  # a worker may start one more as the other ends
    assert search.best_score_ == np.nanmax(search.cv_results_["mean_test_score"])


def test_in_memory_storage_refuses_several_processes():
    X, y = _data()
    with pytest.raises(ValueError, match="cannot share"):
        FusionSearchCV(_est(), n_trials=2, storage=None, n_jobs=2).fit(X, y)


def test_bad_arguments_are_clear():
    X, y = _data()
    with pytest.raises(ValueError, match="dict of lists"):
        FusionSearchCV(_est(), sampler="grid", storage=None).fit(X, y)
    with pytest.raises(ValueError, match="continuous"):
        FusionSearchCV(
            _est(),
            {"lr": optuna.distributions.FloatDistribution(1e-4, 1e-2)},
            sampler="grid",
            storage=None,
        ).fit(X, y)
    with pytest.raises(TypeError, match="declares no search space"):
        from sklearn.linear_model import LogisticRegression

        FusionSearchCV(LogisticRegression(), storage=None).fit(X, y)
    with pytest.raises(ValueError, match="must end in"):
        FusionSearchCV(_est(), storage="study.txt").fit(X, y)


def test_plugin_strategy_joins_the_default_space(monkeypatch):
    from skmm.fusion import ConcatFusion
    from skmm.registry import fusions

    class MyFusion(ConcatFusion):
        @classmethod
        def search_space(cls, trial):
            return {"fusion__n_layers": trial.suggest_int("mine.n_layers", 1, 1)}

    fusions.register("mine", MyFusion)
    try:
        X, y = _data()
        space = {"fusion": ["mine"]}
        trial = optuna.trial.FixedTrial(
            {
                "fusion": "mine",
                "lr": 1e-3,
                "hidden_dim": 32,
                "dropout": 0.0,
                "weight_decay": 1e-4,
                "mine.n_layers": 1,
            }
        )
        assert fusion_space(trial)["fusion"] == "mine"
        search = FusionSearchCV(
            _est(),
            lambda t: fusion_space(t, overrides=space),
            n_trials=2,
            cv=2,
            storage=None,
        ).fit(X, y)
        assert search.best_params_["fusion"] == "mine"
    finally:
        fusions.unregister("mine")


def test_retriever_search_with_recall_at_5():
    from skmm.datasets import make_paired_modalities
    from skmm.metrics import make_retrieval_scorer
    from skmm.retrieval import ContrastiveRetriever

    data = make_paired_modalities(240, latent_dim=4, random_state=0).data
    est = ContrastiveRetriever(max_epochs=8, random_state=0, device="cpu")
    search = FusionSearchCV(
        est,
        n_trials=4,
        cv=3,
        scoring=make_retrieval_scorer("recall@5"),
        storage=None,
        random_state=0,
    ).fit(data)
    assert {"embed_dim", "lr", "temperature"} <= set(search.best_params_)
    assert 0.2 < search.best_score_ <= 1.0
    assert search.best_estimator_.embed_dim == search.best_params_["embed_dim"]
    # per-epoch reports reached the study (epoch-level pruning is wired)
    assert len(search.study_.trials[0].intermediate_values) == 3 * 8
