"""skmm.finetune._training: loss, accumulation, autocast, validation, delta."""

from __future__ import annotations

import contextlib

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from skmm.finetune._training import (  # noqa: E402
    FinetuneNet,
    InfoNCELoss,
    autocast_context,
    load_delta,
    save_delta,
)
from skmm.retrieval._towers import SymmetricInfoNCELoss  # noqa: E402


def _embeddings(n=6, d=4, seed=0):
    g = torch.Generator().manual_seed(seed)
    zq = torch.nn.functional.normalize(torch.randn(n, d, generator=g), dim=1)
    zt = torch.nn.functional.normalize(torch.randn(n, d, generator=g), dim=1)
    return zq, zt, torch.tensor(10.0)


def test_infonce_without_hard_negatives_is_clips_loss():
    y_pred = _embeddings()
    groups = torch.tensor([0, 0, 1, 2, 3, 3])
    ours = InfoNCELoss()(y_pred, groups)
    ref = SymmetricInfoNCELoss()(y_pred, groups)
    assert float(ours) == pytest.approx(float(ref), rel=1e-6)


def test_hard_negatives_weigh_the_closest_negatives_more():
    zq, zt, scale = _embeddings()
    # row 0's closest negative: make target 1 nearly equal to query 0
    zt = zt.clone()
    zt[1] = zq[0]
    groups = torch.arange(6)
    plain = float(InfoNCELoss(0.0)((zq, zt, scale), groups))
    hard = float(InfoNCELoss(5.0)((zq, zt, scale), groups))
    assert hard > plain
    # with all negatives equally similar the weighting changes nothing
    same = torch.nn.functional.normalize(torch.ones(4, 3), dim=1)
    a = float(InfoNCELoss(0.0)((same, same, scale), torch.arange(4)))
    b = float(InfoNCELoss(3.0)((same, same, scale), torch.arange(4)))
    assert a == pytest.approx(b, rel=1e-5)


class _Counting(torch.optim.SGD):
    steps = 0

    def step(self, closure=None):
        type(self).steps += 1
        return super().step(closure)


class _Regress(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = torch.nn.Linear(2, 1)

    def forward(self, X):
        return self.lin(X)


@pytest.mark.parametrize("accumulate, expected", [(1, 8), (2, 4), (4, 2)])
def test_gradient_accumulation_steps(accumulate, expected):
    _Counting.steps = 0
    X = np.random.default_rng(0).normal(size=(32, 2)).astype(np.float32)
    y = X.sum(1, keepdims=True)
    net = FinetuneNet(
        _Regress,
        criterion=torch.nn.MSELoss,
        optimizer=_Counting,
        lr=0.1,
        max_epochs=2,
        batch_size=8,
        train_split=None,
        accumulate=accumulate,
        verbose=0,
    )
    net.fit(X, y)
    assert _Counting.steps == expected  # 4 batches x 2 epochs / accumulate


@pytest.mark.filterwarnings("ignore:CUDA is not available:UserWarning")
def test_autocast_bf16_only_on_cuda():
    assert isinstance(
        autocast_context(torch.device("cpu"), "bf16"), contextlib.nullcontext
    )
    ctx = autocast_context(torch.device("cuda"), "auto")
    assert isinstance(ctx, torch.autocast) and ctx.fast_dtype == torch.bfloat16
    assert isinstance(
        autocast_context(torch.device("cuda"), "fp32"), contextlib.nullcontext
    )


def test_delta_round_trip_skips_frozen_parameters():
    a = torch.nn.Sequential(torch.nn.Linear(3, 3), torch.nn.LayerNorm(3))
    a[0].weight.requires_grad_(False)
    with torch.no_grad():
        a[1].weight.mul_(2.0)
    blob = save_delta(a)
    b = torch.nn.Sequential(torch.nn.Linear(3, 3), torch.nn.LayerNorm(3))
    b[0].weight.requires_grad_(False)
    with torch.no_grad():
        b[0].weight.copy_(a[0].weight)  # "the base weights"
    load_delta(b, blob)
    for (na, pa), (nb, pb) in zip(a.state_dict().items(), b.state_dict().items()):
        assert na == nb and torch.equal(pa, pb)
    c = torch.nn.Sequential(torch.nn.Linear(3, 4))
    with pytest.raises(ValueError, match="do not match"):
        load_delta(c, blob)
