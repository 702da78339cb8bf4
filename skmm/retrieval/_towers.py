"""Torch parts of ContrastiveRetriever: two projection towers and InfoNCE.

Imported only when a :class:`~skmm.retrieval.ContrastiveRetriever` is
fitted, so ``import skmm.retrieval`` does not import torch.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["SymmetricInfoNCELoss", "TwoTowerModule"]

# CLIP clamps its logit scale at 100 (temperature >= 0.01)
MAX_LOGIT_SCALE = math.log(100.0)


def _tower(in_dim: int, embed_dim: int, hidden_dim: int | None, dropout: float):
    if hidden_dim is None:
        return nn.Linear(in_dim, embed_dim)
    return nn.Sequential(
        nn.Linear(in_dim, hidden_dim),
        nn.GELU(),
        nn.Dropout(dropout),
        nn.Linear(hidden_dim, embed_dim),
    )


class TwoTowerModule(nn.Module):
    """A projection tower per modality and a learnable temperature.

    ``forward(query=..., target=...)`` returns the L2-normalised embeddings
    of both and the logit scale ``1 / temperature`` (clamped to
    ``[1, 100]`` like CLIP).

    Parameters
    ----------
    query_dim, target_dim : int
        Input widths.
    embed_dim : int
        Shared-space dimension.
    hidden_dim : int or None
        Hidden width of a one-hidden-layer MLP tower; a linear tower when None.
    dropout : float
        Dropout after the hidden layer (MLP towers).
    temperature : float
        Initial temperature.
    learn_temperature : bool
        Train the temperature (stored as a log logit scale) or keep it fixed.
    """

    def __init__(
        self,
        query_dim: int,
        target_dim: int,
        embed_dim: int = 64,
        hidden_dim: int | None = None,
        dropout: float = 0.0,
        temperature: float = 0.07,
        learn_temperature: bool = True,
    ):
        super().__init__()
        self.query_tower = _tower(query_dim, embed_dim, hidden_dim, dropout)
        self.target_tower = _tower(target_dim, embed_dim, hidden_dim, dropout)
        init = torch.tensor(math.log(1.0 / temperature), dtype=torch.float32)
        self.log_logit_scale = nn.Parameter(init, requires_grad=learn_temperature)

    def logit_scale(self) -> torch.Tensor:
        return self.log_logit_scale.clamp(0.0, MAX_LOGIT_SCALE).exp()

    def encode(self, x: torch.Tensor, role: str) -> torch.Tensor:
        tower = self.query_tower if role == "query" else self.target_tower
        return F.normalize(tower(x), dim=-1)

    def forward(self, query: torch.Tensor, target: torch.Tensor):
        return (
            self.encode(query, "query"),
            self.encode(target, "target"),
            (self.logit_scale()),
        )


class SymmetricInfoNCELoss(nn.Module):
    """CLIP's symmetric InfoNCE over in-batch negatives.

    ``y_pred`` is ``(z_query, z_target, logit_scale)``; ``y_true`` holds
    integer group codes: batch items of the same group are all positives of
    each other (uniform soft targets), every other item is a negative.  With
    one group per row this is the usual InfoNCE with the diagonal as
    positives.
    """

    def forward(self, y_pred, y_true: torch.Tensor) -> torch.Tensor:
        zq, zt, scale = y_pred
        logits = scale * zq @ zt.T
        groups = y_true.reshape(-1)
        pos = (groups[:, None] == groups[None, :]).to(logits.dtype)
        targets = pos / pos.sum(dim=1, keepdim=True)
        loss_q = F.cross_entropy(logits, targets)
        loss_t = F.cross_entropy(logits.T, targets)  # pos is symmetric
        return 0.5 * (loss_q + loss_t)
