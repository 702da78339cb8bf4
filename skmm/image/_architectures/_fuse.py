"""Folding eval-mode batch norm into the preceding convolution."""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["fold_batchnorm"]


@torch.no_grad()
def fold_batchnorm(conv: nn.Conv2d, bn: nn.BatchNorm2d) -> None:
    """Fold ``bn`` (with its running statistics) into ``conv`` in place.

    ``bn(conv(x)) == conv'(x)`` with ``w' = w * g`` and
    ``b' = beta + (b - mean) * g``, where ``g = gamma / sqrt(var + eps)``.
    Inference-only: the batch norm is not applied any more.
    """
    scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
    conv.weight.mul_(scale.view(-1, 1, 1, 1))
    bias = conv.bias if conv.bias is not None else torch.zeros_like(bn.running_mean)
    folded = bn.bias + (bias - bn.running_mean) * scale
    conv.bias = nn.Parameter(folded)
