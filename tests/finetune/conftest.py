"""Helpers of the fine-tuning tests (the tiny-tower fixtures live in
tests/conftest.py, shared with tests/retrieval and tests/fusion)."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from skmm.utils._weights import KNOWN_WEIGHTS

needs_mobilenet = pytest.mark.skipif(
    importlib.util.find_spec(KNOWN_WEIGHTS["mobilenet_v2"].module) is None,
    reason=KNOWN_WEIGHTS["mobilenet_v2"].install,
)


def images(n: int = 4, seed: int = 0, h: int = 40, w: int = 36) -> list:
    rng = np.random.default_rng(seed)
    return [rng.integers(0, 256, (h, w, 3), dtype=np.uint8) for _ in range(n)]
