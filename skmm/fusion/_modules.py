"""Fusion modules: PyTorch networks that combine modality blocks.

Every module follows one contract, so the estimators (and plugins) can treat
them alike:

- the constructor takes ``dims`` (modality name -> input width, in column
  order) and the keyword arguments ``hidden_dim``, ``n_outputs`` and
  ``dropout``, then the strategy's own *knobs* (keyword arguments with
  defaults; users set them as ``fusion__<knob>`` on the estimator);
- ``forward(blocks, mask)`` takes a dict modality name -> float tensor of
  shape ``(batch, dims[name])`` and a boolean presence mask of shape
  ``(batch, n_modalities)`` (columns in the order of ``dims``; at least one
  ``True`` per row) and returns ``(batch, n_outputs)`` logits or values.
  The blocks of absent modalities already hold a placeholder
  (see :mod:`skmm.fusion._missing`); modules whose mechanism has a natural
  way to ignore a modality (attention, late fusion, gates) also use the mask;
- the classmethods ``search_space(trial)`` (an Optuna sub-space of the
  strategy's knobs, keys ``"fusion__<knob>"``) and ``get_test_params()``
  (cheap settings for conformance tests).
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Mapping
from typing import Any, ClassVar

import torch
import torch.nn.functional as F
from torch import Tensor, nn

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

_BASE_ARGS = ("self", "dims", "hidden_dim", "n_outputs", "dropout")

# the largest outer product TensorFusion builds per sample
_MAX_TENSOR_SIZE = 1 << 17


def fusion_knobs(cls: type) -> dict[str, Any]:
    """The strategy's own keyword arguments (its knobs) and their defaults.

    Parameters
    ----------
    cls : type
        A fusion module class.

    Returns
    -------
    dict
        Knob name -> default value.

    Examples
    --------
    >>> fusion_knobs(LowRankFusion)
    {'rank': 4, 'n_layers': 1}
    """
    out = {}
    for name, p in inspect.signature(cls.__init__).parameters.items():
        if name in _BASE_ARGS or p.kind in (p.VAR_KEYWORD, p.VAR_POSITIONAL):
            continue
        out[name] = None if p.default is inspect.Parameter.empty else p.default
    return out


def _mlp(
    in_dim: int, hidden_dim: int, out_dim: int, dropout: float, n_layers: int = 1
) -> nn.Sequential:
    """``n_layers`` hidden ReLU layers, then a linear output layer."""
    layers: list[nn.Module] = []
    width = in_dim
    for _ in range(n_layers):
        layers += [nn.Linear(width, hidden_dim), nn.ReLU(), nn.Dropout(dropout)]
        width = hidden_dim
    layers.append(nn.Linear(width, out_dim))
    return nn.Sequential(*layers)


def _projection(in_dim: int, out_dim: int, dropout: float) -> nn.Sequential:
    """One modality block -> a ``out_dim`` vector (Linear, ReLU, Dropout)."""
    return nn.Sequential(nn.Linear(in_dim, out_dim), nn.ReLU(), nn.Dropout(dropout))


def _masked_softmax(scores: Tensor, mask: Tensor, dim: int) -> Tensor:
    """Softmax of ``scores`` over ``dim`` where ``mask`` is False gets weight 0."""
    scores = scores.masked_fill(~mask, float("-inf"))
    return torch.softmax(scores, dim=dim)


class BaseFusion(nn.Module):
    """Base class of fusion modules.

    Parameters
    ----------
    dims : dict
        Modality name -> input width, in the order of the mask's columns.
    hidden_dim : int, default=64
        Width of the hidden representations.
    n_outputs : int, default=1
        Width of the output (classes for a classifier, targets for a
        regressor).
    dropout : float, default=0.1
        Dropout probability inside the module.

    Notes
    -----
    A subclass declares its knobs as keyword arguments with defaults after
    these four, implements ``forward(blocks, mask)`` and may override
    :meth:`search_space` and :meth:`get_test_params`.
    """

    name: ClassVar[str] = ""

    def __init__(
        self,
        dims: Mapping[str, int],
        *,
        hidden_dim: int = 64,
        n_outputs: int = 1,
        dropout: float = 0.1,
    ) -> None:
        super().__init__()
        if not dims:
            raise ValueError("a fusion module needs at least one modality")
        self.dims = {str(k): int(v) for k, v in dims.items()}
        self.modalities = list(self.dims)
        self.hidden_dim = int(hidden_dim)
        self.n_outputs = int(n_outputs)
        self.dropout = float(dropout)

    def forward(self, blocks: Mapping[str, Tensor], mask: Tensor) -> Tensor:
        raise NotImplementedError  # pragma: no cover

    @classmethod
    def search_space(cls, trial: Any) -> dict[str, Any]:
        """Suggest this strategy's knobs from an Optuna ``trial``.

        Parameters
        ----------
        trial : optuna.trial.Trial

        Returns
        -------
        dict
            ``"fusion__<knob>"`` -> suggested value (to pass to ``set_params``).
            Trial parameter names are ``"<strategy>.<knob>"`` so that two
            strategies' knobs never clash in one study.
        """
        return {}

    @classmethod
    def get_test_params(cls) -> list[dict[str, Any]]:
        """Cheap knob settings for conformance tests (without the prefix)."""
        return [{}]

    def _stack(self, blocks: Mapping[str, Tensor], layers: nn.ModuleDict) -> Tensor:
        """Apply one layer per modality; stack as ``(batch, n_modalities, d)``."""
        return torch.stack([layers[m](blocks[m]) for m in self.modalities], dim=1)

    def extra_repr(self) -> str:
        return f"dims={self.dims}, hidden_dim={self.hidden_dim}"


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

    def __init__(
        self,
        dims: Mapping[str, int],
        *,
        hidden_dim: int = 64,
        n_outputs: int = 1,
        dropout: float = 0.1,
        n_layers: int = 1,
    ) -> None:
        super().__init__(
            dims, hidden_dim=hidden_dim, n_outputs=n_outputs, dropout=dropout
        )
        self.project = nn.ModuleDict(
            {m: _projection(d, self.hidden_dim, self.dropout) for m, d in dims.items()}
        )
        self.head = _mlp(
            self.hidden_dim * len(self.dims),
            self.hidden_dim,
            self.n_outputs,
            self.dropout,
            n_layers,
        )

    def forward(self, blocks: Mapping[str, Tensor], mask: Tensor) -> Tensor:
        h = torch.cat([self.project[m](blocks[m]) for m in self.modalities], dim=1)
        return self.head(h)

    @classmethod
    def search_space(cls, trial: Any) -> dict[str, Any]:
        return {"fusion__n_layers": trial.suggest_int("concat.n_layers", 1, 3)}

    @classmethod
    def get_test_params(cls) -> list[dict[str, Any]]:
        return [{}, {"n_layers": 2}]


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
    >>> m = LateFusion({"a": 3, "b": 2}, hidden_dim=8, n_outputs=2)
    >>> blocks = {"a": torch.zeros(4, 3), "b": torch.zeros(4, 2)}
    >>> m(blocks, torch.ones(4, 2, dtype=torch.bool)).shape
    torch.Size([4, 2])
    """

    name = "late"

    def __init__(
        self,
        dims: Mapping[str, int],
        *,
        hidden_dim: int = 64,
        n_outputs: int = 1,
        dropout: float = 0.1,
        n_layers: int = 1,
    ) -> None:
        super().__init__(
            dims, hidden_dim=hidden_dim, n_outputs=n_outputs, dropout=dropout
        )
        self.heads = nn.ModuleDict(
            {
                m: _mlp(d, self.hidden_dim, self.n_outputs, self.dropout, n_layers)
                for m, d in dims.items()
            }
        )
        self.scores = nn.Parameter(torch.zeros(len(self.dims)))

    def forward(self, blocks: Mapping[str, Tensor], mask: Tensor) -> Tensor:
        logits = self._stack(blocks, self.heads)  # (batch, M, n_outputs)
        scores = self.scores.expand(mask.shape[0], -1)
        weights = _masked_softmax(scores, mask, dim=1)  # (batch, M)
        return (weights.unsqueeze(-1) * logits).sum(dim=1)

    @classmethod
    def search_space(cls, trial: Any) -> dict[str, Any]:
        return {"fusion__n_layers": trial.suggest_int("late.n_layers", 1, 3)}

    @classmethod
    def get_test_params(cls) -> list[dict[str, Any]]:
        return [{}]


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
    >>> import torch
    >>> m = AttentionFusion({"a": 3, "b": 2}, hidden_dim=8, n_outputs=2)
    >>> blocks = {"a": torch.zeros(4, 3), "b": torch.zeros(4, 2)}
    >>> m(blocks, torch.ones(4, 2, dtype=torch.bool)).shape
    torch.Size([4, 2])
    """

    name = "attention"

    def __init__(
        self,
        dims: Mapping[str, int],
        *,
        hidden_dim: int = 64,
        n_outputs: int = 1,
        dropout: float = 0.1,
        qkv: bool = False,
        n_layers: int = 1,
    ) -> None:
        super().__init__(
            dims, hidden_dim=hidden_dim, n_outputs=n_outputs, dropout=dropout
        )
        d = self.hidden_dim
        self.tokens = nn.ModuleDict(
            {m: _projection(w, d, self.dropout) for m, w in dims.items()}
        )
        self.qkv = bool(qkv)
        if self.qkv:
            self.query = nn.Linear(d, d)
            self.key = nn.Linear(d, d)
            self.value = nn.Linear(d, d)
        self.head = _mlp(d, d, self.n_outputs, self.dropout, n_layers)

    def forward(self, blocks: Mapping[str, Tensor], mask: Tensor) -> Tensor:
        v = self._stack(blocks, self.tokens)  # (batch, M, d)
        if self.qkv:
            q, k, val = self.query(v), self.key(v), self.value(v)
        else:
            q = k = val = v
        scores = q @ k.transpose(1, 2) / math.sqrt(v.shape[-1])  # (batch, M, M)
        attn = _masked_softmax(scores, mask.unsqueeze(1), dim=-1)  # over keys
        attended = attn @ val  # (batch, M, d)
        # pool over the modality axis (dim 1), present queries only
        w = mask.unsqueeze(-1).to(attended.dtype)
        pooled = (attended * w).sum(dim=1) / w.sum(dim=1)
        return self.head(pooled)

    @classmethod
    def search_space(cls, trial: Any) -> dict[str, Any]:
        return {
            "fusion__qkv": trial.suggest_categorical("attention.qkv", [False, True]),
            "fusion__n_layers": trial.suggest_int("attention.n_layers", 1, 3),
        }

    @classmethod
    def get_test_params(cls) -> list[dict[str, Any]]:
        return [{}, {"qkv": True}]


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
    >>> import torch
    >>> m = GatedFusion({"a": 3, "b": 2}, hidden_dim=8, n_outputs=2)
    >>> blocks = {"a": torch.zeros(4, 3), "b": torch.zeros(4, 2)}
    >>> m(blocks, torch.ones(4, 2, dtype=torch.bool)).shape
    torch.Size([4, 2])
    """

    name = "gated"

    def __init__(
        self,
        dims: Mapping[str, int],
        *,
        hidden_dim: int = 64,
        n_outputs: int = 1,
        dropout: float = 0.1,
        n_layers: int = 1,
    ) -> None:
        super().__init__(
            dims, hidden_dim=hidden_dim, n_outputs=n_outputs, dropout=dropout
        )
        d = self.hidden_dim
        self.transform = nn.ModuleDict({m: nn.Linear(w, d) for m, w in dims.items()})
        self.gate = nn.Linear(sum(self.dims.values()), d * len(self.dims))
        self.drop = nn.Dropout(self.dropout)
        self.head = _mlp(d, d, self.n_outputs, self.dropout, n_layers)

    def forward(self, blocks: Mapping[str, Tensor], mask: Tensor) -> Tensor:
        h = torch.tanh(self._stack(blocks, self.transform))  # (batch, M, d)
        # absent blocks are zeroed in the gate's input, and gated out below
        x = torch.cat(
            [blocks[m] * mask[:, j : j + 1] for j, m in enumerate(self.modalities)],
            dim=1,
        )
        z = self.gate(x).view(h.shape)
        z = _masked_softmax(z, mask.unsqueeze(-1), dim=1)
        return self.head(self.drop((z * h).sum(dim=1)))

    @classmethod
    def search_space(cls, trial: Any) -> dict[str, Any]:
        return {"fusion__n_layers": trial.suggest_int("gated.n_layers", 1, 3)}


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
    >>> import torch
    >>> m = TensorFusion({"a": 3, "b": 2}, hidden_dim=8, n_outputs=2)
    >>> blocks = {"a": torch.zeros(4, 3), "b": torch.zeros(4, 2)}
    >>> m(blocks, torch.ones(4, 2, dtype=torch.bool)).shape
    torch.Size([4, 2])
    """

    name = "tensor"

    def __init__(
        self,
        dims: Mapping[str, int],
        *,
        hidden_dim: int = 64,
        n_outputs: int = 1,
        dropout: float = 0.1,
        modality_dim: int = 16,
        n_layers: int = 1,
    ) -> None:
        super().__init__(
            dims, hidden_dim=hidden_dim, n_outputs=n_outputs, dropout=dropout
        )
        size = (int(modality_dim) + 1) ** len(self.dims)
        if size > _MAX_TENSOR_SIZE:
            raise ValueError(
                f"TensorFusion with {len(self.dims)} modalities and "
                f"modality_dim={modality_dim} builds an outer product of {size} "
                f"entries per sample (limit {_MAX_TENSOR_SIZE}); lower "
                "fusion__modality_dim or use fusion='lowrank'."
            )
        self.modality_dim = int(modality_dim)
        self.subnets = nn.ModuleDict(
            {
                m: _projection(w, self.modality_dim, self.dropout)
                for m, w in dims.items()
            }
        )
        self.head = _mlp(size, self.hidden_dim, self.n_outputs, self.dropout, n_layers)

    def forward(self, blocks: Mapping[str, Tensor], mask: Tensor) -> Tensor:
        fused = None
        for m in self.modalities:
            z = F.pad(self.subnets[m](blocks[m]), (0, 1), value=1.0)  # [z; 1]
            if fused is None:
                fused = z
            else:
                fused = (fused.unsqueeze(-1) * z.unsqueeze(1)).flatten(1)
        return self.head(fused)

    @classmethod
    def search_space(cls, trial: Any) -> dict[str, Any]:
        return {
            "fusion__modality_dim": trial.suggest_int(
                "tensor.modality_dim", 4, 32, log=True
            )
        }

    @classmethod
    def get_test_params(cls) -> list[dict[str, Any]]:
        return [{"modality_dim": 4}]


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
    >>> import torch
    >>> m = LowRankFusion({"a": 3, "b": 2}, hidden_dim=8, n_outputs=2, rank=2)
    >>> blocks = {"a": torch.zeros(4, 3), "b": torch.zeros(4, 2)}
    >>> m(blocks, torch.ones(4, 2, dtype=torch.bool)).shape
    torch.Size([4, 2])
    """

    name = "lowrank"

    def __init__(
        self,
        dims: Mapping[str, int],
        *,
        hidden_dim: int = 64,
        n_outputs: int = 1,
        dropout: float = 0.1,
        rank: int = 4,
        n_layers: int = 1,
    ) -> None:
        super().__init__(
            dims, hidden_dim=hidden_dim, n_outputs=n_outputs, dropout=dropout
        )
        if int(rank) < 1:
            raise ValueError(f"LowRankFusion needs rank >= 1, got {rank}")
        d = self.hidden_dim
        self.rank = int(rank)
        self.subnets = nn.ModuleDict(
            {m: _projection(w, d, self.dropout) for m, w in dims.items()}
        )
        self.factors = nn.ParameterDict()
        for m in self.modalities:
            factor = torch.empty(self.rank, d + 1, d)
            nn.init.xavier_normal_(factor)
            self.factors[m] = nn.Parameter(factor)
        self.rank_weights = nn.Parameter(torch.full((self.rank,), 1.0 / self.rank))
        self.bias = nn.Parameter(torch.zeros(d))
        self.head = _mlp(d, d, self.n_outputs, self.dropout, n_layers)

    def forward(self, blocks: Mapping[str, Tensor], mask: Tensor) -> Tensor:
        fused = None
        for m in self.modalities:
            z = F.pad(self.subnets[m](blocks[m]), (0, 1), value=1.0)  # [z; 1]
            part = torch.einsum("bk,rkd->brd", z, self.factors[m])
            fused = part if fused is None else fused * part
        out = torch.einsum("r,brd->bd", self.rank_weights, fused) + self.bias
        return self.head(out)

    @classmethod
    def search_space(cls, trial: Any) -> dict[str, Any]:
        return {"fusion__rank": trial.suggest_int("lowrank.rank", 1, 16, log=True)}

    @classmethod
    def get_test_params(cls) -> list[dict[str, Any]]:
        return [{"rank": 2}]


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
    >>> m = TransformerFusion({"a": 3, "b": 2}, hidden_dim=8, n_outputs=2)
    >>> blocks = {"a": torch.zeros(4, 3), "b": torch.zeros(4, 2)}
    >>> m(blocks, torch.ones(4, 2, dtype=torch.bool)).shape
    torch.Size([4, 2])
    """

    name = "transformer"

    def __init__(
        self,
        dims: Mapping[str, int],
        *,
        hidden_dim: int = 64,
        n_outputs: int = 1,
        dropout: float = 0.1,
        n_heads: int = 4,
        n_layers: int = 2,
    ) -> None:
        super().__init__(
            dims, hidden_dim=hidden_dim, n_outputs=n_outputs, dropout=dropout
        )
        d = self.hidden_dim
        if d % int(n_heads):
            raise ValueError(
                f"TransformerFusion needs hidden_dim divisible by n_heads; got "
                f"hidden_dim={d}, fusion__n_heads={n_heads}."
            )
        self.project = nn.ModuleDict({m: nn.Linear(w, d) for m, w in dims.items()})
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

    def forward(self, blocks: Mapping[str, Tensor], mask: Tensor) -> Tensor:
        tokens = self._stack(blocks, self.project) + self.modality_embedding
        cls = self.cls.expand(tokens.shape[0], -1, -1)
        seq = torch.cat([cls, tokens], dim=1)
        # True = ignore; the CLS token is always attended to
        pad = torch.cat([torch.zeros_like(mask[:, :1]), ~mask], dim=1)
        out = self.encoder(seq, src_key_padding_mask=pad)
        return self.head(self.norm(out[:, 0]))

    @classmethod
    def search_space(cls, trial: Any) -> dict[str, Any]:
        return {
            "fusion__n_heads": trial.suggest_categorical(
                "transformer.n_heads", [1, 2, 4]
            ),
            "fusion__n_layers": trial.suggest_int("transformer.n_layers", 1, 3),
        }

    @classmethod
    def get_test_params(cls) -> list[dict[str, Any]]:
        return [{"n_heads": 2, "n_layers": 1}]


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
