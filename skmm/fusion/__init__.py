"""Fusion estimators and the fusion modules they train.

:class:`FusionClassifier` and :class:`FusionRegressor` are scikit-learn
estimators whose ``fit`` trains, through skorch, a PyTorch fusion module
chosen by name from :data:`skmm.registry.fusions`:

========================  ===================================================
``"concat"``              project each block, concatenate, MLP
``"late"``                one head per modality, learned weights over logits
``"attention"``           scaled dot-product attention across modality tokens
``"gated"``               gated multimodal unit (Arevalo et al., 2017)
``"tensor"``              tensor fusion network (Zadeh et al., 2017)
``"lowrank"``             low-rank multimodal fusion (Liu et al., 2018)
``"transformer"``         transformer encoder over modality tokens + CLS
========================  ===================================================

Every module takes a dict of modality tensors and a presence mask; an
all-NaN block in a row means that modality is absent.

Examples
--------
>>> import skmm.fusion
>>> from skmm.registry import fusions
>>> builtins = ["concat", "late", "attention", "gated", "tensor", "lowrank",
...             "transformer"]
>>> all(name in fusions for name in builtins)
True
>>> fusions.get("lowrank").__name__
'LowRankFusion'
"""

from __future__ import annotations

from skmm.fusion._checks import check_fusion_module
from skmm.fusion._estimators import FusionClassifier, FusionRegressor
from skmm.fusion._missing import ModalityPlaceholder, modality_dropout, presence_mask
from skmm.fusion._modules import (
    BUILTIN_FUSIONS,
    AttentionFusion,
    BaseFusion,
    ConcatFusion,
    GatedFusion,
    LateFusion,
    LowRankFusion,
    TensorFusion,
    TransformerFusion,
    fusion_knobs,
)

__all__ = [
    "AttentionFusion",
    "BaseFusion",
    "ConcatFusion",
    "FusionClassifier",
    "FusionRegressor",
    "GatedFusion",
    "LateFusion",
    "LowRankFusion",
    "ModalityPlaceholder",
    "TensorFusion",
    "TransformerFusion",
    "check_fusion_module",
    "fusion_knobs",
    "modality_dropout",
    "presence_mask",
]


def _register_builtins() -> None:
    # TODO(integration): move these into skmm.registry's builtins dict as
    # "skmm.fusion._modules:<Class>" strings; this then becomes a no-op.
    from skmm.registry import fusions

    for name, cls in BUILTIN_FUSIONS.items():
        if name not in fusions:
            fusions.register(name, cls)


_register_builtins()
