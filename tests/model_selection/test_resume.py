"""Resuming studies: another search space fails at once, trials of killed
workers are failed, and damaged storage files are named."""

from __future__ import annotations

import functools
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
import warnings

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

optuna = pytest.importorskip("optuna")

from skmm.exceptions import InvalidFileError  # noqa: E402
from skmm.model_selection import FusionSearchCV, fusion_space  # noqa: E402
from skmm.model_selection import _resume as resume_module  # noqa: E402
from skmm.model_selection._resume import (  # noqa: E402
    HEARTBEAT_ATTR,
    SPACE_ATTR,
    check_space,
    describe_space,
    fail_stale_trials,
    trial_heartbeat,
)
from skmm.model_selection._space import FlatSpace  # noqa: E402
from skmm.model_selection._storage import make_storage  # noqa: E402

SPACE = {"C": [0.1, 1.0, 10.0]}


def _data():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(40, 3))
    y = (X[:, 0] > 0).astype(int)
    return X, y


def _search(storage, space=SPACE, n_trials=2, **kw):
    X, y = _data()
    search = FusionSearchCV(
        LogisticRegression(),
        space,
        n_trials=n_trials,
        cv=2,
        storage=storage,
        study_name="mine",
        random_state=0,
        **kw,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "k of n trials failed"
        return search.fit(X, y)


@pytest.fixture(autouse=True)
def _default_heartbeats(monkeypatch):
    monkeypatch.delenv("SKMM_HEARTBEAT_INTERVAL", raising=False)
    monkeypatch.delenv("SKMM_HEARTBEAT_GRACE", raising=False)


# ------------------------------------------------ 1. another search space
@pytest.mark.parametrize("suffix", [".db", ".journal"])
def test_another_space_fails_at_once_naming_the_differences(tmp_path, suffix):
    storage = tmp_path / f"s{suffix}"
    first = _search(storage)
    assert first.study_.user_attrs[SPACE_ATTR]["params"].keys() == {"C"}
    other = {"C": [0.1, 1.0], "tol": [1e-4, 1e-3]}
    with pytest.raises(ValueError) as info:
        _search(storage, other, n_trials=4)
    message = str(info.value)
    assert "'mine'" in message and str(storage) in message
    assert "changed 'C': one of [0.1, 1.0, 10.0] -> one of [0.1, 1.0]" in message
    assert "added 'tol': one of [0.0001, 0.001]" in message
    assert "study_name (e.g. 'mine-2')" in message
    assert "delete_study" in message
    # no trial ran under the new space
    study = optuna.load_study(study_name="mine", storage=make_storage(storage))
    assert len(study.trials) == 2


def test_removed_parameter_and_changed_range_are_named(tmp_path):
    storage = tmp_path / "s.db"
    dist = optuna.distributions.FloatDistribution(0.1, 1.0, log=True)
    _search(storage, {"C": dist, "tol": [1e-4, 1e-3], "max_iter": 50})
    wider = optuna.distributions.FloatDistribution(0.1, 10.0, log=True)
    with pytest.raises(ValueError) as info:
        _search(storage, {"C": wider, "max_iter": 60})
    message = str(info.value)
    assert "removed 'tol'" in message
    assert "changed 'C': float in [0.1, 1.0] (log) -> float in [0.1, 10.0]" in message
    assert "changed 'max_iter': fixed 50 -> fixed 60" in message


def test_same_space_resumes(tmp_path):
    storage = tmp_path / "s.journal"
    first = _search(storage, {"C": [0.1, 1.0, 10.0], "tol": [1e-4, 1e-3]})
    # the same space, its keys in another order
    second = _search(storage, {"tol": [1e-4, 1e-3], "C": [0.1, 1.0, 10.0]}, 4)
    assert len(second.cv_results_["params"]) == 4
    assert second.best_params_ and set(second.best_params_) == {"C", "tol"}
    np.testing.assert_array_equal(
        second.cv_results_["mean_test_score"][:2], first.cv_results_["mean_test_score"]
    )


def test_define_by_run_space_finds_each_strategys_knobs():
    two = functools.partial(fusion_space, strategies=["concat", "late"])
    found = describe_space(two)
    assert {"fusion", "lr", "concat.n_layers", "late.n_layers"} <= set(found)
    assert "lowrank.rank" not in found
    three = functools.partial(
        fusion_space, strategies=["concat", "late", "lowrank"], overrides={"lr": 1e-3}
    )
    assert "lowrank.rank" in describe_space(three)
    assert "lr" not in describe_space(three)  # fixed by the override

    study = optuna.create_study(direction="maximize")
    check_space(
        study, functools.partial(fusion_space, strategies=["concat", "late"]), "x"
    )
    check_space(
        study, functools.partial(fusion_space, strategies=["concat", "late"]), "x"
    )
    with pytest.raises(ValueError) as info:
        check_space(study, three, "x")
    message = str(info.value)
    assert "changed 'fusion'" in message and "added 'lowrank.rank'" in message
    assert "removed 'lr'" in message


def test_study_stored_before_the_space_was_recorded(tmp_path, monkeypatch):
    storage = tmp_path / "s.db"
    with monkeypatch.context() as m:  # as an older skmm: no space in the study
        m.setattr(resume_module, "describe_space", lambda space: None)
        _search(storage, {"C": [0.1, 1.0, 10.0], "tol": [1e-4, 1e-3]})
    study = optuna.load_study(study_name="mine", storage=make_storage(storage))
    assert SPACE_ATTR not in study.user_attrs
    # compared with what its finished trials drew
    with pytest.raises(ValueError) as info:
        _search(storage, {"C": [0.1, 1.0], "max_iter": [50, 100]}, 4)
    message = str(info.value)
    assert "changed 'C'" in message and "added 'max_iter'" in message
    assert "removed 'tol'" in message
    # the same space resumes, and is recorded from now on
    again = _search(storage, {"C": [0.1, 1.0, 10.0], "tol": [1e-4, 1e-3]}, 3)
    assert len(again.cv_results_["params"]) == 3 and again.best_params_
    assert set(again.study_.user_attrs[SPACE_ATTR]["params"]) == {"C", "tol"}


# -------------------------------------------------- 2. killed workers
_STUCK_WORKER = textwrap.dedent(
    """
    import time
    import numpy as np
    from sklearn.linear_model import LogisticRegression
    from skmm.model_selection import FusionSearchCV

    class Stuck(LogisticRegression):
        def fit(self, X, y, sample_weight=None):
            open({marker!r}, "w").close()
            time.sleep(600)

    rng = np.random.RandomState(0)
    X = rng.normal(size=(40, 3))
    y = (X[:, 0] > 0).astype(int)
    FusionSearchCV(Stuck(), {space!r}, n_trials=3, cv=2, storage={storage!r},
                   study_name="mine", random_state=0).fit(X, y)
    """
)


@pytest.mark.parametrize("suffix", [".db", ".journal"])
def test_trial_of_a_killed_worker_is_failed_on_resume(tmp_path, monkeypatch, suffix):
    monkeypatch.setenv("SKMM_HEARTBEAT_INTERVAL", "0.3")
    monkeypatch.setenv("SKMM_HEARTBEAT_GRACE", "1")
    storage, marker = str(tmp_path / f"s{suffix}"), str(tmp_path / "running")
    script = _STUCK_WORKER.format(marker=marker, space=SPACE, storage=storage)
    proc = subprocess.Popen([sys.executable, "-c", script])
    try:
        deadline = time.time() + 60
        while not os.path.exists(marker):
            assert proc.poll() is None, "the worker ended before its trial ran"
            assert time.time() < deadline, "the worker's trial never started"
            time.sleep(0.05)
        time.sleep(0.5)  # a heartbeat or two
        os.kill(proc.pid, signal.SIGKILL)  # no cleanup of any kind
        proc.wait()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    study = optuna.load_study(study_name="mine", storage=make_storage(storage))
    assert [t.state.name for t in study.trials] == ["RUNNING"]
    time.sleep(2.5)  # past the grace period
    search = _search(storage, n_trials=3)
    trials = search.study_.trials
    assert [t.state.name for t in trials] == ["FAIL", "COMPLETE", "COMPLETE"]
    assert "heartbeats" in trials[0].user_attrs["error"]
    assert list(search.cv_results_["state"]) == ["FAIL", "COMPLETE", "COMPLETE"]
    assert search.best_params_ and search.best_index_ in (1, 2)


def test_heartbeat_keeps_a_live_trial_and_silence_fails_it(tmp_path, monkeypatch):
    monkeypatch.setattr(resume_module, "HEARTBEAT_INTERVAL", 0.05)
    monkeypatch.setattr(resume_module, "GRACE_PERIOD", 0.5)
    storage = make_storage(tmp_path / "s.journal")
    study = optuna.create_study(storage=storage)
    trial = study.ask()
    with trial_heartbeat(trial):
        first = storage.get_trial(trial._trial_id).system_attrs[HEARTBEAT_ATTR]
        time.sleep(0.8)  # longer than the grace period, but beating
        later = storage.get_trial(trial._trial_id).system_attrs[HEARTBEAT_ATTR]
        assert later > first
        assert fail_stale_trials(study) == []
    time.sleep(0.7)  # a worker that stopped beating
    assert fail_stale_trials(study) == [trial.number]
    (frozen,) = study.get_trials()
    assert frozen.state.name == "FAIL" and "heartbeats" in frozen.user_attrs["error"]
    assert fail_stale_trials(study) == []


def test_rdb_storage_uses_optunas_heartbeats(tmp_path, monkeypatch):
    monkeypatch.setenv("SKMM_HEARTBEAT_INTERVAL", "2")
    monkeypatch.setenv("SKMM_HEARTBEAT_GRACE", "5")
    storage = make_storage(tmp_path / "s.db")
    assert (storage.heartbeat_interval, storage.grace_period) == (2.0, 5.0)
    study = optuna.create_study(storage=storage)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # heartbeats outside optimize
        trial = study.ask()
    with trial_heartbeat(trial):  # Optuna's own thread beats for RDB
        assert HEARTBEAT_ATTR not in storage.get_trial(trial._trial_id).system_attrs
    monkeypatch.setenv("SKMM_HEARTBEAT_GRACE", "0")
    with pytest.raises(ValueError, match="SKMM_HEARTBEAT_GRACE"):
        make_storage(tmp_path / "s.db")


# ------------------------------------------------ 3. damaged storage files
RANDOM = np.random.RandomState(0).bytes(3000)


def _good_db(path):
    study = optuna.create_study(storage=f"sqlite:///{path}", study_name="other")
    study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=2)


def _good_journal(path):
    study = optuna.create_study(storage=make_storage(path), study_name="other")
    study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=2)
    return path.read_bytes().splitlines(keepends=True)


def _truncated_db(path):
    _good_db(path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _foreign_sqlite(path):
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE songs (title TEXT)")
    con.commit()
    con.close()


def _journal_garbage_line(path):
    lines = _good_journal(path)
    path.write_bytes(b"".join([*lines[:2], b"not json at all\n", *lines[2:]]))
    return 3


def _journal_foreign_last_line(path):
    lines = _good_journal(path)
    path.write_bytes(b"".join([*lines, b'{"title": "a song"}\n']))
    return len(lines) + 1


def _journal_truncated(path):
    lines = _good_journal(path)
    path.write_bytes(b"".join(lines)[:-10])
    return len(lines)


def _write(data):
    def make(path):
        path.write_bytes(data)

    return make


# kind -> (file name, make(path) -> the bad line or None, URL form)
BAD_FILES = {
    "db-random-bytes": ("s.db", _write(RANDOM), False),
    "db-text-file": ("s.db", _write(b"study results\n1,2,3\n"), False),
    "db-truncated": ("s.db", _truncated_db, False),
    "db-of-another-program": ("s.db", _foreign_sqlite, False),
    "db-folder": ("s.db", lambda p: p.mkdir(), False),
    "sqlite-url-random-bytes": ("s.sqlite", _write(RANDOM), True),
    "journal-garbage-line": ("s.journal", _journal_garbage_line, False),
    "journal-foreign-last-line": ("s.journal", _journal_foreign_last_line, False),
    "journal-truncated": ("s.journal", _journal_truncated, False),
    "journal-random-bytes": ("s.journal", _write(RANDOM), False),
    "journal-folder": ("s.log", lambda p: p.mkdir(), False),
}


@pytest.mark.parametrize("kind", list(BAD_FILES))
def test_damaged_storage_file_is_named_with_what_to_do(kind, tmp_path):
    name, make, url = BAD_FILES[kind]
    path = tmp_path / name
    line = make(path)
    spec = f"sqlite:///{path}" if url else path
    with pytest.raises(InvalidFileError) as info:
        _search(spec)
    message = str(info.value)
    assert str(path) in message and info.value.path == str(path)
    assert "storage=" in message
    if isinstance(line, int):
        assert info.value.line == line and f"line {line}" in message


@pytest.mark.parametrize("name", ["s.db", "s.journal"])
def test_unreadable_storage_file_is_named(name, tmp_path, monkeypatch):
    from skmm.model_selection import _storage

    path = tmp_path / name
    (_good_db if name.endswith(".db") else _good_journal)(path)

    def no_permission(file, *args, **kwargs):  # chmod 0 does not stop root
        if os.fspath(file) == str(path):
            raise PermissionError(13, "Permission denied", str(path))
        return open(file, *args, **kwargs)

    monkeypatch.setattr(_storage, "open", no_permission, raising=False)
    with pytest.raises(InvalidFileError, match="cannot be read") as info:
        _search(path)
    assert str(path) in str(info.value) and "Permission denied" in str(info.value)


def test_good_files_of_other_studies_are_fine(tmp_path):
    _good_db(tmp_path / "s.db")
    _good_journal(tmp_path / "s.journal")
    for name in ("s.db", "s.journal"):
        assert _search(tmp_path / name).best_params_


def test_describe_space_of_an_unprobeable_space_falls_back_to_trials():
    def space(trial):
        if isinstance(trial, optuna.trial.FixedTrial):
            raise RuntimeError("only real trials")
        return {}

    assert describe_space(space) is None
    assert describe_space(FlatSpace({"C": 1.0, "f": len})) == {
        "C": '{"name": "Fixed", "attributes": {"value": "1.0"}}'
    }
