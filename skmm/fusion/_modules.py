"""The built-in fusion strategies, each its layers and its combination step.

Every strategy is a :class:`~skmm.fusion.BaseFusion` (see
:mod:`skmm.fusion._base` for the contract they share): its knobs are the
keyword arguments of ``build``, which creates one layer per modality and
whatever the strategy combines them with; ``combine(h, mask, blocks)``
turns the stacked per-modality vectors ``h`` (``(batch, n_modalities,
width)``) and the presence mask into ``(batch, n_outputs)`` logits or values.
Modules whose mechanism has a natural way to ignore a modality (attention,
late fusion, gates, the transformer) use the mask; the others see the
placeholders of absent modalities.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from skmm.fusion._base import BaseFusion, fusion_knobs, masked_mean, masked_softmax

__all__ = [
    "AttentionFusion",
    "BaseFusion",
    "ConcatFusion",
    "GatedFusion",
    "LateFusion",
    "LowRankFusion",
    "TensorFusion",
    "TransformerFusion",
    "fusion_knobs",
]

# the largest outer product TensorFusion builds per sample
_MAX_TENSOR_SIZE = 1 << 17


class ConcatFusion(BaseFusion):
    """Early fusion: project each block, concatenate, then an MLP.

    Parameters
    ----------
    dims, hidden_dim, n_outputs, dropout
        See :class:`BaseFusion`.
    n_layers : int, default=1
        Hidden layers of the MLP after the concatenation.

    Examples
    --------
    >>> import torch
    >>> m = ConcatFusion({"a": 3, "b": 2}, hidden_dim=8, n_outputs=2)
    >>> blocks = {"a": torch.zeros(4, 3), "b": torch.zeros(4, 2)}
    >>> m(blocks, torch.ones(4, 2, dtype=torch.bool)).shape
    torch.Size([4, 2])
    """

    name = "concat"
    knob_space = {"n_layers": (1, 3)}
    test_params = [{}, {"n_layers": 2}]

    def build(self, *, n_layers: int = 1) -> None:
        self.project_each()
        self.head = self.mlp(self.hidden_dim * len(self.dims), n_layers)

    def combine(self, h: Tensor, mask: Tensor, blocks: Mapping[str, Tensor]) -> Tensor:
        return self.head(h.flatten(1))  # the projections side by side


class LateFusion(BaseFusion):
    """Late fusion: one head per modality, learned weights over their outputs.

    The weights are a softmax over one learned score per modality, taken over
    the modalities present in each row, so an absent modality's head does
    not vote.  Each head sees one modality only: late fusion cannot learn
    interactions between modalities (an XOR of two modalities).

    Parameters
    ----------
    dims, hidden_dim, n_outputs, dropout
        See :class:`BaseFusion`.
    n_layers : int, default=1
        Hidden layers of each modality's head.

    Examples
    --------
    >>> import torch
    >>> m = LateFusion({"a": 3, "b": 2}, hidden_dim=8, n_outputs=2).eval()
    >>> blocks = {"a": torch.randn(4, 3), "b": torch.randn(4, 2)}
    >>> only_a = torch.tensor([[True, False]] * 4)  # "b" absent: its head is out
    >>> torch.allclose(m(blocks, only_a), m.heads["a"](blocks["a"]))
    True
    """

    name = "late"
    knob_space = {"n_layers": (1, 3)}

    def build(self, *, n_layers: int = 1) -> None:
        self.per_modality("heads", lambda width: self.mlp(width, n_layers))
        self.scores = nn.Parameter(torch.zeros(len(self.dims)))

    def combine(self, h: Tensor, mask: Tensor, blocks: Mapping[str, Tensor]) -> Tensor:
        # h: each head's output, (batch, M, n_outputs)
        scores = self.scores.expand(mask.shape[0], -1)
        weights = masked_softmax(scores, mask, dim=1)  # (batch, M)
        return (weights.unsqueeze(-1) * h).sum(dim=1)


class AttentionFusion(BaseFusion):
    """Scaled dot-product attention across modality tokens.

    Each block becomes a token ``v_m`` of width ``d = hidden_dim``.  Every
    token attends to the tokens present in its row with weights
    ``softmax_k(v_m . v_k / sqrt(d))`` — the two-modality formula
    ``softmax(v_t . v_v / sqrt(d))`` generalised to any number of
    modalities.  The attended tokens are averaged over the *modality* axis
    (over the present modalities only), and an MLP maps the result to the
    output.

    Parameters
    ----------
    dims, hidden_dim, n_outputs, dropout
        See :class:`BaseFusion`.
    qkv : bool, default=False
        Learn separate query, key and value projections of the tokens
        (``False`` uses the tokens themselves, as in the formula above).
    n_layers : int, default=1
        Hidden layers of the output MLP.

    Examples
    --------
    >>> m = AttentionFusion({"a": 3, "b": 2}, hidden_dim=8, qkv=True)
    >>> [name for name, _ in m.named_children()]
    ['tokens', 'query', 'key', 'value', 'head']
    """

    name = "attention"
    knob_space = {"qkv": [False, True], "n_layers": (1, 3)}
    test_params = [{}, {"qkv": True}]

    def build(self, *, qkv: bool = False, n_layers: int = 1) -> None:
        d = self.hidden_dim
        self.project_each(name="tokens")
        self.qkv = bool(qkv)
        if self.qkv:
            self.query = nn.Linear(d, d)
            self.key = nn.Linear(d, d)
            self.value = nn.Linear(d, d)
        self.head = self.mlp(d, n_layers)

    def combine(self, h: Tensor, mask: Tensor, blocks: Mapping[str, Tensor]) -> Tensor:
        v = h  # the tokens, (batch, M, d)
        if self.qkv:
            q, k, val = self.query(v), self.key(v), self.value(v)
        else:
            q = k = val = v
        scores = q @ k.transpose(1, 2) / math.sqrt(v.shape[-1])  # (batch, M, M)
        attn = masked_softmax(scores, mask.unsqueeze(1), dim=-1)  # over keys
        # pool the attended tokens over the modality axis, present queries only
        return self.head(masked_mean(attn @ val, mask))


class GatedFusion(BaseFusion):
    """Gated multimodal unit (GMU; Arevalo et al., 2017).

    Each block gives ``h_m = tanh(W_m x_m)``; a gate computed from all blocks
    together, ``z = softmax_m(W_z [x_1, ..., x_M])`` (per hidden unit, over
    the present modalities), mixes them: ``h = sum_m z_m * h_m``.  With two
    modalities the softmax is the paper's ``z`` and ``1 - z``.  An MLP maps
    ``h`` to the output.

    Parameters
    ----------
    dims, hidden_dim, n_outputs, dropout
        See :class:`BaseFusion`.
    n_layers : int, default=1
        Hidden layers of the output MLP.

    Examples
    --------
    >>> m = GatedFusion({"a": 3, "b": 2}, hidden_dim=8)
    >>> m.gate  # from both blocks: a gate per hidden unit and modality
    Linear(in_features=5, out_features=16, bias=True)
    """

    name = "gated"
    knob_space = {"n_layers": (1, 3)}

    def build(self, *, n_layers: int = 1) -> None:
        d = self.hidden_dim
        self.project_each(activation=False, name="transform")
        self.gate = nn.Linear(sum(self.dims.values()), d * len(self.dims))
        self.drop = nn.Dropout(self.dropout)
        self.head = self.mlp(d, n_layers)

    def combine(self, h: Tensor, mask: Tensor, blocks: Mapping[str, Tensor]) -> Tensor:
        h = torch.tanh(h)  # (batch, M, d)
        # absent blocks are zeroed in the gate's input, and gated out below
        x = torch.cat(
            [blocks[m] * mask[:, j : j + 1] for j, m in enumerate(self.modalities)],
            dim=1,
        )
        z = self.gate(x).view(h.shape)
        z = masked_softmax(z, mask.unsqueeze(-1), dim=1)
        return self.head(self.drop((z * h).sum(dim=1)))


class TensorFusion(BaseFusion):
    """Tensor fusion network (TFN; Zadeh et al., 2017).

    Each block is mapped to ``z_m`` of width ``modality_dim``; a 1 is
    appended (so the fusion keeps the unimodal and all lower-order
    interaction terms) and the outer product
    ``[z_1; 1] ⊗ ... ⊗ [z_M; 1]`` of size ``prod(modality_dim + 1)`` feeds an
    MLP.  The size grows exponentially with the number of modalities; past
    2**17 entries the module refuses and suggests ``"lowrank"``.

    Parameters
    ----------
    dims, hidden_dim, n_outputs, dropout
        See :class:`BaseFusion`.
    modality_dim : int, default=16
        Width of each modality's vector before the outer product.
    n_layers : int, default=1
        Hidden layers of the MLP after the outer product.

    Examples
    --------
    >>> m = TensorFusion({"a": 3, "b": 2}, modality_dim=4)
    >>> m.head[0].in_features  # (4 + 1) * (4 + 1)
    25
    """

    name = "tensor"
    knob_space = {"modality_dim": (4, 32, "log")}
    test_params = [{"modality_dim": 4}]

    def build(self, *, modality_dim: int = 16, n_layers: int = 1) -> None:
        size = (int(modality_dim) + 1) ** len(self.dims)
        if size > _MAX_TENSOR_SIZE:
            raise ValueError(
                f"TensorFusion with {len(self.dims)} modalities and "
                f"modality_dim={modality_dim} builds an outer product of {size} "
                f"entries per sample (limit {_MAX_TENSOR_SIZE}); lower "
                "fusion__modality_dim or use fusion='lowrank'."
            )
        self.modality_dim = int(modality_dim)
        self.project_each(self.modality_dim, name="subnets")
        self.head = self.mlp(size, n_layers)

    def combine(self, h: Tensor, mask: Tensor, blocks: Mapping[str, Tensor]) -> Tensor:
        z = F.pad(h, (0, 1), value=1.0).unbind(1)  # [z_m; 1] per modality
        fused = z[0]
        for z_m in z[1:]:
            fused = (fused.unsqueeze(-1) * z_m.unsqueeze(1)).flatten(1)
        return self.head(fused)


class LowRankFusion(BaseFusion):
    """Low-rank multimodal fusion (LMF; Liu et al., 2018).

    The tensor-fusion weight is factorised into ``rank`` modality-specific
    factors, so the fused vector is
    ``sum_r lambda_r * prod_m ([z_m; 1] W_m^(r))`` — linear in the number of
    modalities instead of exponential.  ``z_m`` is the ``hidden_dim``-wide
    projection of block ``m``; an MLP maps the fused vector to the output.

    Parameters
    ----------
    dims, hidden_dim, n_outputs, dropout
        See :class:`BaseFusion`.
    rank : int, default=4
        Number of factors.
    n_layers : int, default=1
        Hidden layers of the output MLP.

    Examples
    --------
    >>> m = LowRankFusion({"a": 3, "b": 2}, hidden_dim=8, rank=2)
    >>> m.factors["a"].shape  # (rank, hidden_dim + 1, hidden_dim)
    torch.Size([2, 9, 8])
    """

    name = "lowrank"
    knob_space = {"rank": (1, 16, "log")}
    test_params = [{"rank": 2}]

    def build(self, *, rank: int = 4, n_layers: int = 1) -> None:
        if int(rank) < 1:
            raise ValueError(f"LowRankFusion needs rank >= 1, got {rank}")
        d = self.hidden_dim
        self.rank = int(rank)
        self.project_each(name="subnets")
        self.factors = nn.ParameterDict()
        for m in self.modalities:
            factor = torch.empty(self.rank, d + 1, d)
            nn.init.xavier_normal_(factor)
            self.factors[m] = nn.Parameter(factor)
        self.rank_weights = nn.Parameter(torch.full((self.rank,), 1.0 / self.rank))
        self.bias = nn.Parameter(torch.zeros(d))
        self.head = self.mlp(d, n_layers)

    def combine(self, h: Tensor, mask: Tensor, blocks: Mapping[str, Tensor]) -> Tensor:
        z = F.pad(h, (0, 1), value=1.0)  # [z_m; 1], (batch, M, d + 1)
        fused = None
        for j, m in enumerate(self.modalities):
            part = torch.einsum("bk,rkd->brd", z[:, j], self.factors[m])
            fused = part if fused is None else fused * part
        out = torch.einsum("r,brd->bd", self.rank_weights, fused) + self.bias
        return self.head(out)


class TransformerFusion(BaseFusion):
    """A small transformer encoder over modality tokens with a CLS token.

    Each block becomes a token (a linear projection plus a learned modality
    embedding); a learned CLS token is prepended, absent modalities are
    masked out of the attention (``src_key_padding_mask``), and the CLS
    token's final state feeds the output layer (MulT-style, without the
    cross-modal directions).

    Parameters
    ----------
    dims, hidden_dim, n_outputs, dropout
        See :class:`BaseFusion`.  ``hidden_dim`` must be divisible by
        ``n_heads``.
    n_heads : int, default=4
        Attention heads.
    n_layers : int, default=2
        Encoder layers.

    Examples
    --------
    >>> import torch
    >>> m = TransformerFusion({"a": 3, "b": 2}, hidden_dim=8, n_heads=2)
    >>> blocks = {"a": torch.zeros(4, 3), "b": torch.zeros(4, 2)}
    >>> m(blocks, torch.tensor([[True, False]] * 4)).shape  # "b" masked out
    torch.Size([4, 1])
    """

    name = "transformer"
    knob_space = {"n_heads": [1, 2, 4], "n_layers": (1, 3)}
    test_params = [{"n_heads": 2, "n_layers": 1}]

    def build(self, *, n_heads: int = 4, n_layers: int = 2) -> None:
        d = self.hidden_dim
        if d % int(n_heads):
            raise ValueError(
                f"TransformerFusion needs hidden_dim divisible by n_heads; got "
                f"hidden_dim={d}, fusion__n_heads={n_heads}."
            )
        self.project_each(activation=False)
        self.modality_embedding = nn.Parameter(torch.randn(len(self.dims), d) * 0.02)
        self.cls = nn.Parameter(torch.randn(1, 1, d) * 0.02)
        layer = nn.TransformerEncoderLayer(
            d,
            int(n_heads),
            dim_feedforward=2 * d,
            dropout=self.dropout,
            batch_first=True,
            norm_first=True,
        )
        self.encoder = nn.TransformerEncoder(
            layer, int(n_layers), enable_nested_tensor=False
        )
        self.norm = nn.LayerNorm(d)
        self.head = nn.Linear(d, self.n_outputs)

    def combine(self, h: Tensor, mask: Tensor, blocks: Mapping[str, Tensor]) -> Tensor:
        tokens = h + self.modality_embedding
        cls = self.cls.expand(tokens.shape[0], -1, -1)
        seq = torch.cat([cls, tokens], dim=1)
        # True = ignore; the CLS token is always attended to
        pad = torch.cat([torch.zeros_like(mask[:, :1]), ~mask], dim=1)
        out = self.encoder(seq, src_key_padding_mask=pad)
        return self.head(self.norm(out[:, 0]))


BUILTIN_FUSIONS: dict[str, type] = {
    cls.name: cls
    for cls in (
        ConcatFusion,
        LateFusion,
        AttentionFusion,
        GatedFusion,
        TensorFusion,
        LowRankFusion,
        TransformerFusion,
    )
}
