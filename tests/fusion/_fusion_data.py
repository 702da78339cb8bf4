"""Small synthetic multimodal tasks for the fusion tests (numpy only)."""

from __future__ import annotations

import numpy as np
import pandas as pd


def make_xor(n_samples=600, width=4, noise=0.3, random_state=0, as_frame=True):
    """Two modalities ``a`` and ``b``; ``y = sign(a0) XOR sign(b0)``.

    Each modality alone carries no information about ``y`` (chance), both
    together determine it.  Column ``0`` of each block holds the signal
    (``+-1.5`` plus noise), the other columns are noise.
    """
    rng = np.random.RandomState(random_state)
    sa = rng.randint(0, 2, n_samples)
    sb = rng.randint(0, 2, n_samples)
    a = rng.normal(scale=1.0, size=(n_samples, width))
    b = rng.normal(scale=1.0, size=(n_samples, width))
    a[:, 0] = (2 * sa - 1) * 1.5 + rng.normal(scale=noise, size=n_samples)
    b[:, 0] = (2 * sb - 1) * 1.5 + rng.normal(scale=noise, size=n_samples)
    y = sa ^ sb
    X = np.hstack([a, b])
    if as_frame:
        cols = [f"a__f{i}" for i in range(width)] + [f"b__f{i}" for i in range(width)]
        X = pd.DataFrame(X, columns=cols)
    return X, y


def make_redundant(n_samples=600, width=4, random_state=0, as_frame=True):
    """Two modalities that each carry part of the signal about ``y``.

    ``y = [u_a + u_b > 0]`` where ``u_a``, ``u_b`` are standard normal;
    modality ``a`` shows ``u_a`` and modality ``b`` shows ``u_b`` (plus noise
    columns).  One modality alone gives about 75% accuracy, both together
    close to 100%: losing a modality lowers accuracy without reaching
    chance.
    """
    rng = np.random.RandomState(random_state)
    u = rng.normal(size=(n_samples, 2))
    y = (u.sum(axis=1) > 0).astype(int)
    a = rng.normal(size=(n_samples, width))
    b = rng.normal(size=(n_samples, width))
    a[:, 0] = u[:, 0] + rng.normal(scale=0.1, size=n_samples)
    b[:, 0] = u[:, 1] + rng.normal(scale=0.1, size=n_samples)
    X = np.hstack([a, b])
    if as_frame:
        cols = [f"a__f{i}" for i in range(width)] + [f"b__f{i}" for i in range(width)]
        X = pd.DataFrame(X, columns=cols)
    return X, y
