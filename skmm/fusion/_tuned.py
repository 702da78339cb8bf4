"""Fusion over fine-tuned encoders: ``FusionClassifier(encoders={...})``.

With ``encoders=``, a fusion estimator takes *raw* columns.  Each modality's
encoder becomes a tower (:mod:`skmm.finetune`): its frozen prefix is
computed once per item, its last ``unfreeze`` blocks train together with the
fusion module.  :class:`TunedFusionNetwork` wraps the usual
:class:`~skmm.fusion._net.FusionNetwork`: its input is a column of row ids;
it runs each present cell's tower suffix, leaves absent cells as NaN blocks
(so the presence mask and the placeholders handle them exactly as for
frozen features: a missing cell is masked, never fed as zeros), and calls
the fusion network on the result.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from skmm.finetune._towers import make_tower
from skmm.finetune._training import (
    RestoredNet,
    TowerBank,
    autocast_context,
    per_modality,
    prepare_column,
    restore_tuned,
    save_delta,
)
from skmm.fusion._net import FusionNetwork

__all__ = ["TunedFusionNetwork", "prepare_tuned", "tower_blocks", "tuned_features"]


def tower_blocks(
    towers: dict,
    suffixes: nn.ModuleDict,
    banks: dict,
    row_items: dict,
    rows: np.ndarray,
    *,
    device: torch.device,
    precision: str,
    training: bool,
) -> torch.Tensor:
    """The blocks of ``rows`` side by side, NaN where a cell is missing: each
    present cell's prefix (a random augmented view when ``training``) through
    its tower's suffix."""
    parts = []
    for m, tower in towers.items():
        block = torch.full((rows.size, tower.out_dim), float("nan"), device=device)
        items = row_items[m][rows]
        ok = np.flatnonzero(items >= 0)
        if ok.size:
            bank = banks[m]
            if training and bank.n_views > 1:
                views = torch.randint(bank.n_views, (ok.size,)).numpy()
            else:
                views = np.zeros(ok.size, dtype=np.int64)
            inputs = tower.collate(bank.get(items[ok], views), device)
            with autocast_context(device, precision):
                feats = suffixes[m](*inputs).float()
            block = block.index_put((torch.as_tensor(ok, device=device),), feats)
        parts.append(block)
    return torch.cat(parts, dim=1)


def _all_blocks(
    towers: dict, suffixes: Any, banks: dict, row_items: dict, n: int, **kw: Any
) -> np.ndarray:
    """:func:`tower_blocks` of every row, in batches, without gradients."""
    width = sum(t.out_dim for t in towers.values())
    out = np.empty((n, width), dtype=np.float32)
    with torch.no_grad():
        for s in range(0, n, 256):
            rows = np.arange(s, min(s + 256, n))
            out[rows] = (
                tower_blocks(towers, suffixes, banks, row_items, rows, **kw)
                .cpu()
                .numpy()
            )
    return out


class TunedFusionNetwork(nn.Module):
    """Tower suffixes (one per modality) feeding a fusion network.

    Parameters
    ----------
    towers : dict
        Modality -> :class:`~skmm.finetune.BaseTower` (their suffixes train).
    banks, row_items : dict
        Modality -> prefix bank and per-row item index of the training rows
        (``-1``: the cell is missing).
    precision : str
        ``"auto"``/``"bf16"``: bf16 autocast of the towers on CUDA.
    **fusion_kwargs
        Passed to :class:`~skmm.fusion._net.FusionNetwork`.
    """

    def __init__(
        self,
        *,
        towers: dict,
        banks: dict | None = None,
        row_items: dict | None = None,
        precision: str = "auto",
        **fusion_kwargs: Any,
    ):
        super().__init__()
        self.inner = FusionNetwork(**fusion_kwargs)
        self.towers = towers
        self.suffixes = nn.ModuleDict({m: t.suffix for m, t in towers.items()})
        self.banks = banks or {}
        self.row_items = row_items or {}
        self.precision = precision

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        rows = X[:, 0].detach().cpu().numpy().astype(np.int64)
        blocks = tower_blocks(
            self.towers,
            self.suffixes,
            self.banks,
            self.row_items,
            rows,
            device=self.inner.mean.device,
            precision=self.precision,
            training=self.training,
        )
        return self.inner(blocks)


def _columns(est: Any, X: Any) -> dict[str, tuple[list, str, list]]:
    """Modality -> (cells, column name, row labels) of a raw table."""
    cls = type(est).__name__
    if not (hasattr(X, "iloc") and hasattr(X, "columns")):
        raise TypeError(
            f"{cls} with encoders= takes a DataFrame of raw columns (texts, image "
            f"cells, ...); got {type(X).__name__}."
        )
    out = {}
    for m in est.encoders:
        name = (est.columns or {}).get(m, m)
        if name not in X.columns:
            raise ValueError(
                f"{cls}: X has no column {name!r} for the {m!r} encoder; its "
                f"columns are {[str(c) for c in X.columns]}. Pass columns="
                f"{{{m!r}: <column>}}."
            )
        out[m] = (list(X[name]), str(name), list(X.index))
    return out


def _per_modality(est: Any, value: Any, name: str, default: Any) -> dict:
    return per_modality(value, name, default, list(est.encoders), type(est).__name__)


def _build_towers(est: Any, encoders: dict, unfreeze: dict, lora: dict, views: int):
    return {
        m: make_tower(
            enc,
            unfreeze[m],
            lora=lora[m],
            augment_views=views if getattr(enc, "_modality", "") == "image" else 0,
            seed=0,
            owner=type(est).__name__,
        )
        for m, enc in encoders.items()
    }


def prepare_tuned(est: Any, X: Any) -> dict:
    """Fit the encoders on ``X``'s raw columns, build the towers and the
    prefix banks, and compute the initial blocks (for standardisation and
    the presence mask).  Sets the encoders' fitted attributes on ``est``."""
    from sklearn.base import clone

    if not isinstance(est.encoders, dict) or not est.encoders:
        raise ValueError(
            f"{type(est).__name__}: encoders must be a non-empty dict of modality "
            f"-> encoder; got {est.encoders!r}."
        )
    cols = _columns(est, X)
    unfreeze = _per_modality(est, est.unfreeze, "unfreeze", 0)
    lora = _per_modality(est, est.lora, "lora", None)
    encoders, prepared = {}, {}
    for m, enc in est.encoders.items():
        cells, name, rows = cols[m]
        enc = clone(enc)
        enc.fit(cells)
        encoders[m] = enc
        prepared[m] = prepare_column(enc, cells, name, rows)
    towers = _build_towers(est, encoders, unfreeze, lora, est.augment_views)
    banks = {
        m: TowerBank(t, prepared[m], n_views=t.n_views, cache=True)
        for m, t in towers.items()
    }
    row_items = {m: prepared[m].row_item for m in towers}
    est.encoders_ = encoders
    est._unfreeze_spec = unfreeze
    est.unfreeze_ = {m: t.n_trainable for m, t in towers.items()}
    est.depth_ = {m: t.depth for m, t in towers.items()}
    start, blocks = 0, {}
    for m, t in towers.items():
        blocks[m] = np.arange(start, start + t.out_dim)
        start += t.out_dim
    suffixes = {m: t.suffix.eval() for m, t in towers.items()}
    n = len(next(iter(cols.values()))[0])
    feats = _all_blocks(
        towers,
        suffixes,
        banks,
        row_items,
        n,
        device=torch.device("cpu"),
        precision="fp32",
        training=False,
    )
    # back to training mode: skorch only switches the top-level module, and a
    # new one starts in training mode, so an eval-mode suffix would train its
    # first epochs without dropout
    for suffix in suffixes.values():
        suffix.train()
    return {
        "towers": towers,
        "banks": banks,
        "row_items": row_items,
        "blocks": blocks,
        "features": feats,
        "names": [cols[m][1] for m in towers],
    }


def tuned_module(est: Any) -> TunedFusionNetwork:
    net = est.__dict__.get("net_")
    if net is None:
        net = restore(est)
    return net.module_


def tuned_features(est: Any, X: Any) -> np.ndarray:
    """The blocks of a raw table through the tuned towers (NaN: missing)."""
    module = tuned_module(est)
    cols = _columns(est, X)
    names = [cols[m][1] for m in est.encoders_]
    if list(getattr(est, "feature_names_in_", names)) != names:
        raise ValueError(
            f"X's encoder columns {names} differ from those seen at fit "
            f"{list(est.feature_names_in_)}."
        )
    n = len(next(iter(cols.values()))[0])
    banks, row_items = {}, {}
    for m, enc in est.encoders_.items():
        col = prepare_column(enc, *cols[m])
        banks[m] = TowerBank(module.towers[m], col, n_views=1, cache=True)
        row_items[m] = col.row_item
    was = module.training
    module.eval()
    try:
        return _all_blocks(
            module.towers,
            module.suffixes,
            banks,
            row_items,
            n,
            device=module.inner.mean.device,
            precision=module.precision,
            training=False,
        )
    finally:
        module.train(was)


# ------------------------------------------------------------------ pickle
def getstate(est: Any, state: dict) -> dict:
    """Replace the net by the tuned delta (safetensors) and its config."""
    net = state.pop("net_", None)
    if net is not None:
        module = net.module_
        state["_tuned_delta"] = save_delta(module)
        state["_tuned_device"] = str(net.device)
    return state


def restore(est: Any) -> RestoredNet:
    """Rebuild the towers from the base weights and load the tuned delta."""

    def build() -> nn.Module:
        lora = _per_modality(est, est.lora, "lora", None)
        towers = _build_towers(est, est.encoders_, est._unfreeze_spec, lora, 0)
        return TunedFusionNetwork(
            towers=towers, precision=est.precision, **est._tuned_config
        )

    return restore_tuned(est, est.__dict__.get("_tuned_device", "cpu"), build)
