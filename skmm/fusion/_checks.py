"""Conformance checks for fusion modules (usable by plugin authors).

A plugin that registers a fusion module under ``skmm.fusions`` runs
:func:`check_fusion_module` in its tests; skmm runs it on every registered
module.

Examples
--------
>>> from skmm.fusion import ConcatFusion, check_fusion_module
>>> check_fusion_module(ConcatFusion)
"""

from __future__ import annotations

import pickle
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import numpy as np
import torch

from skmm.fusion._base import fusion_knobs

__all__ = ["check_fusion_module", "yield_fusion_module_checks"]

_DIMS = ({"x": 3}, {"a": 3, "b": 2}, {"a": 4, "b": 1, "c": 2})


def _blocks(dims: Mapping[str, int], batch: int = 6, seed: int = 0) -> dict:
    g = torch.Generator().manual_seed(seed)
    return {m: torch.randn(batch, d, generator=g) for m, d in dims.items()}


def _build(cls: Any, dims: Mapping[str, int], params: Mapping[str, Any]) -> Any:
    torch.manual_seed(0)
    return cls(dims, hidden_dim=8, n_outputs=3, dropout=0.1, **params)


def check_constructor_contract(cls: Any, params: Mapping[str, Any]) -> None:
    """The constructor takes dims and the shared keywords; knobs have defaults."""
    knobs = fusion_knobs(cls) if isinstance(cls, type) else {}
    unknown = set(params) - set(knobs)
    assert not unknown, f"test params {unknown} are not knobs of {cls}"
    for dims in _DIMS:
        module = _build(cls, dims, params)
        assert isinstance(module, torch.nn.Module)


def check_forward_shapes_and_gradients(cls: Any, params: Mapping[str, Any]) -> None:
    """``forward(blocks, mask)`` gives finite ``(batch, n_outputs)`` outputs,
    with every modality present or some absent, and gradients flow."""
    for dims in _DIMS:
        module = _build(cls, dims, params)
        mask = torch.ones(6, len(dims), dtype=torch.bool)
        if len(dims) > 1:
            mask[0, 0] = False
            mask[1, 1:] = False
        out = module(_blocks(dims), mask)
        assert out.shape == (6, 3), f"output shape {tuple(out.shape)} != (6, 3)"
        assert torch.isfinite(out).all(), "non-finite output"
        out.sum().backward()
        grads = [p.grad for p in module.parameters() if p.requires_grad]
        assert grads and any(g is not None and g.abs().sum() > 0 for g in grads)


def check_rows_are_independent(cls: Any, params: Mapping[str, Any]) -> None:
    """In eval mode a row's output does not depend on the other rows."""
    dims = _DIMS[1]
    module = _build(cls, dims, params).eval()
    blocks = _blocks(dims)
    mask = torch.ones(6, 2, dtype=torch.bool)
    mask[2, 0] = False
    with torch.no_grad():
        full = module(blocks, mask)
        part = module({m: b[2:4] for m, b in blocks.items()}, mask[2:4])
    torch.testing.assert_close(part, full[2:4], rtol=1e-4, atol=1e-5)


def check_trains_and_pickles(cls: Any, params: Mapping[str, Any]) -> None:
    """FusionClassifier trains with the module; pickling keeps predictions."""
    from skmm.fusion._estimators import FusionClassifier

    rng = np.random.RandomState(0)
    X = rng.normal(size=(40, 5))
    X[:5, 3:] = np.nan  # modality b absent in 5 rows
    y = np.arange(40) % 2
    knobs = {f"fusion__{k}": v for k, v in params.items()}
    clf = FusionClassifier(
        fusion=cls,
        modalities={"a": 3, "b": 2},
        hidden_dim=8,
        max_epochs=2,
        modality_dropout=0.2,
        random_state=0,
        **knobs,
    ).fit(X, y)
    proba = clf.predict_proba(X)
    assert proba.shape == (40, 2) and np.isfinite(proba).all()
    again = pickle.loads(pickle.dumps(clf))
    np.testing.assert_allclose(again.predict_proba(X), proba)


def yield_fusion_module_checks() -> Iterator[Callable]:
    """The checks :func:`check_fusion_module` runs, in order."""
    yield check_constructor_contract
    yield check_forward_shapes_and_gradients
    yield check_rows_are_independent
    yield check_trains_and_pickles


def check_fusion_module(cls: Any, params: Mapping[str, Any] | None = None) -> None:
    """Run every fusion-module check on ``cls``.

    Parameters
    ----------
    cls : type
        A fusion module class (see :class:`skmm.fusion.BaseFusion`); it must
        be importable by name for the pickling check.
    params : dict, optional
        Knob values; by default each set from ``cls.get_test_params()``.
    """
    sets = (
        [params]
        if params is not None
        else getattr(cls, "get_test_params", lambda: [{}])()
    )
    for p in sets:
        for check in yield_fusion_module_checks():
            check(cls, dict(p))
