"""The fusion modules: shapes, masks, the formulas they implement."""

from __future__ import annotations

import math

import pytest
import torch

from skmm.fusion import (
    AttentionFusion,
    BaseFusion,
    FusionClassifier,
    LowRankFusion,
    TensorFusion,
    TransformerFusion,
    check_fusion_module,
    fusion_knobs,
)
from skmm.registry import fusions

STRATEGIES = fusions.names()
BUILTINS = ["attention", "concat", "gated", "late", "lowrank", "tensor", "transformer"]
# modules that use the mask to ignore an absent modality entirely
MASKING = ["attention", "gated", "late", "transformer"]


def _blocks(dims, batch=5, seed=0):
    g = torch.Generator().manual_seed(seed)
    return {m: torch.randn(batch, d, generator=g) for m, d in dims.items()}


def test_builtins_are_registered():
    assert set(BUILTINS) <= set(STRATEGIES)
    for name in BUILTINS:
        cls = fusions.get(name)
        assert issubclass(cls, BaseFusion) and cls.name == name


@pytest.mark.parametrize("name", STRATEGIES)
def test_registered_modules_pass_the_conformance_checks(name):
    check_fusion_module(fusions.get(name))


@pytest.mark.parametrize("name", MASKING)
def test_absent_modality_does_not_reach_the_output(name):
    dims = {"a": 3, "b": 2, "c": 4}
    module = fusions.get(name)(dims, hidden_dim=8, n_outputs=2).eval()
    blocks = _blocks(dims)
    mask = torch.ones(5, 3, dtype=torch.bool)
    mask[:, 1] = False
    changed = dict(blocks, b=blocks["b"] * 100 + 7)
    torch.testing.assert_close(module(blocks, mask), module(changed, mask))


def test_attention_is_the_seed_formula_done_right():
    """softmax(v_i . v_j / sqrt(d)) over modalities, attended vectors averaged
    over the modality axis (the seed's sample summed over the feature axis)."""
    dims = {"text": 3, "image": 5}
    module = AttentionFusion(dims, hidden_dim=6, n_outputs=2, dropout=0.0).eval()
    blocks = _blocks(dims, batch=4)
    v_t = module.tokens["text"](blocks["text"])
    v_v = module.tokens["image"](blocks["image"])
    d = v_t.shape[-1]
    pooled = []
    for q in (v_t, v_v):
        scores = torch.stack([(q * k).sum(-1) for k in (v_t, v_v)], -1) / math.sqrt(d)
        w = torch.softmax(scores, dim=-1)
        pooled.append(w[:, :1] * v_t + w[:, 1:] * v_v)
    expected = module.head((pooled[0] + pooled[1]) / 2)
    mask = torch.ones(4, 2, dtype=torch.bool)
    torch.testing.assert_close(module(blocks, mask), expected)


def test_tensor_fusion_appends_ones():
    module = TensorFusion({"a": 3, "b": 2}, hidden_dim=8, modality_dim=4)
    assert module.head[0].in_features == 5 * 5
    with pytest.raises(ValueError, match="lowrank"):
        TensorFusion({str(i): 2 for i in range(8)}, modality_dim=8)


def test_lowrank_matches_a_rank_one_product():
    dims = {"a": 2, "b": 3}
    module = LowRankFusion(dims, hidden_dim=4, rank=1, dropout=0.0).eval()
    blocks = _blocks(dims, batch=3)
    z = {
        m: torch.cat([module.subnets[m](blocks[m]), torch.ones(3, 1)], 1) for m in dims
    }
    fused = (z["a"] @ module.factors["a"][0]) * (z["b"] @ module.factors["b"][0])
    expected = module.head(module.rank_weights[0] * fused + module.bias)
    torch.testing.assert_close(
        module(blocks, torch.ones(3, 2, dtype=torch.bool)), expected
    )


def test_transformer_needs_divisible_heads():
    with pytest.raises(ValueError, match="divisible by n_heads"):
        TransformerFusion({"a": 2}, hidden_dim=10, n_heads=4)


def test_knobs_and_search_spaces():
    optuna = pytest.importorskip("optuna")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    assert fusion_knobs(LowRankFusion) == {"rank": 4, "n_layers": 1}
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    for name in STRATEGIES:
        cls = fusions.get(name)
        knobs = fusion_knobs(cls)
        trial = study.ask()
        space = cls.search_space(trial)
        assert all(k.startswith("fusion__") for k in space)
        assert {k[len("fusion__") :] for k in space} <= set(knobs)
        for params in cls.get_test_params():
            assert set(params) <= set(knobs)
        # the suggested settings are valid estimator parameters
        FusionClassifier(fusion=name, **space).get_params()


class _WrongShape(BaseFusion):
    def __init__(self, dims, *, hidden_dim=64, n_outputs=1, dropout=0.1):
        super().__init__(
            dims, hidden_dim=hidden_dim, n_outputs=n_outputs, dropout=dropout
        )
        self.lin = torch.nn.Linear(sum(dims.values()), 1)

    def forward(self, blocks, mask):
        return self.lin(torch.cat([blocks[m] for m in self.modalities], 1))


def test_conformance_checks_catch_a_broken_module():
    with pytest.raises(AssertionError, match="output shape"):
        check_fusion_module(_WrongShape)
