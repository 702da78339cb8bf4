"""Distributed search: two worker processes on one study through PostgreSQL.

Runs when ``SKMM_TEST_POSTGRES_URL`` points at a reachable database;
``.ci/run`` starts one (``eval "$(bash scripts/postgres.sh)"``).
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import uuid

import pytest

optuna = pytest.importorskip("optuna")

URL = os.environ.get("SKMM_TEST_POSTGRES_URL")

_HOW = (
    'no PostgreSQL: start one with `eval "$(bash scripts/postgres.sh)"` '
    "(installs Debian's postgresql, starts it on 127.0.0.1, exports "
    "SKMM_TEST_POSTGRES_URL)"
)


def _reachable(url: str) -> str | None:
    try:
        import sqlalchemy as sa

        with sa.create_engine(url).connect() as conn:
            conn.execute(sa.text("select 1"))
    except Exception as exc:  # driver missing, server down, bad password
        return f"{type(exc).__name__}: {exc}"
    return None


_WORKER = textwrap.dedent(
    """
    import sys
    import numpy as np
    from skmm.fusion import FusionClassifier
    from skmm.model_selection import FusionSearchCV
    rng = np.random.RandomState(0)
    X = rng.normal(size=(120, 6)).astype(np.float32)
    y = (X[:, 0] + X[:, 3] > 0).astype(int)
    est = FusionClassifier(modalities={{"a": 3, "b": 3}}, max_epochs=3,
                           random_state=0, device="cpu")
    FusionSearchCV(est, {{"fusion": ["concat", "late", "gated"],
                          "lr": [1e-3, 3e-2], "hidden_dim": [16, 32]}},
                   n_trials={n_trials}, cv=2, storage={url!r},
                   study_name={name!r}, random_state=int(sys.argv[1]),
                   refit=False).fit(X, y)
    """
)


@pytest.mark.skipif(URL is None, reason=_HOW)
def test_two_workers_share_one_postgres_study():
    problem = _reachable(URL)
    if problem is not None:
        pytest.skip(f"{_HOW}; {URL.split('@')[-1]} is not reachable: {problem}")
    name = f"skmm-test-{uuid.uuid4().hex[:8]}"
    n_trials = 8
    optuna.create_study(study_name=name, storage=URL, direction="maximize")
    script = _WORKER.format(n_trials=n_trials, url=URL, name=name)
    workers = [
        subprocess.Popen([sys.executable, "-c", script, str(seed)]) for seed in (0, 1)
    ]
    codes = [w.wait(timeout=600) for w in workers]
    assert codes == [0, 0]
    study = optuna.load_study(study_name=name, storage=URL)
    trials = study.trials
    numbers = [t.number for t in trials]
    assert len(numbers) == len(set(numbers))  # none duplicated
    finished = [t for t in trials if t.state.name in ("COMPLETE", "PRUNED")]
    # both workers stop at n_trials; one may start a last trial meanwhile
    assert n_trials <= len(finished) <= n_trials + 1
    assert {t.state.name for t in trials} <= {"COMPLETE", "PRUNED"}
    best = study.best_trial
    assert best.value == max(t.value for t in trials if t.state.name == "COMPLETE")
    assert set(best.params) == {"fusion", "lr", "hidden_dim"}
    optuna.delete_study(study_name=name, storage=URL)
