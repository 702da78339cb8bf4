from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("matplotlib")

from skmm.fusion import FusionClassifier  # noqa: E402
from skmm.model_selection import FusionSearchCV, plot_search  # noqa: E402


def test_plot_search_writes_history_and_importances(tmp_path):
    rng = np.random.RandomState(0)
    X = rng.normal(size=(90, 4)).astype(np.float32)
    y = (X[:, 0] > 0).astype(int)
    est = FusionClassifier(
        modalities={"a": 2, "b": 2}, max_epochs=2, random_state=0, device="cpu"
    )
    search = FusionSearchCV(
        est, n_trials=4, cv=2, storage=None, random_state=0, pruner=None
    ).fit(X, y)
    files = plot_search(search, tmp_path, prefix="demo")
    assert set(files) == {"history", "importances"}
    for path in files.values():
        data = path.read_bytes()
        assert data[:4] == b"\x89PNG" and len(data) > 5000
