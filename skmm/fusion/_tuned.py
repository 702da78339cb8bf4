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

import warnings
from typing import Any

import numpy as np
import torch
from torch import nn

from skmm.finetune._towers import make_tower
from skmm.finetune._training import (
    TowerBank,
    autocast_context,
    load_delta,
    per_modality,
    prepare_column,
    save_delta,
)
from skmm.fusion._net import FusionNetwork

__all__ = ["TunedFusionNetwork", "prepare_tuned", "tuned_features"]


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

    def _device(self) -> torch.device:
        return self.inner.mean.device

    def tower_features(self, modality: str, arrays: list) -> torch.Tensor:
        device = self._device()
        inputs = self.towers[modality].collate(arrays, device)
        with autocast_context(device, self.precision):
            out = self.suffixes[modality](*inputs)
        return out.float()

    def features(self, rows: np.ndarray) -> torch.Tensor:
        """The blocks of ``rows`` side by side, NaN where a cell is missing."""
        parts = []
        device = self._device()
        for m in self.towers:
            width = self.towers[m].out_dim
            block = torch.full((rows.size, width), float("nan"), device=device)
            items = self.row_items[m][rows]
            ok = np.flatnonzero(items >= 0)
            if ok.size:
                bank = self.banks[m]
                if self.training and bank.n_views > 1:
                    views = torch.randint(bank.n_views, (ok.size,)).numpy()
                else:
                    views = np.zeros(ok.size, dtype=np.int64)
                feats = self.tower_features(m, bank.get(items[ok], views))
                block = block.index_put((torch.as_tensor(ok, device=device),), feats)
            parts.append(block)
        return torch.cat(parts, dim=1)

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        rows = X[:, 0].detach().cpu().numpy().astype(np.int64)
        return self.inner(self.features(rows))


class _RestoredNet:
    """Stands for the skorch net after unpickling (module and device)."""

    def __init__(self, module: nn.Module, device: str):
        self.module_ = module
        self.device = device
        self.history = None


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
    n = len(next(iter(cols.values()))[0])
    probe = TunedFusionNetwork(
        towers=towers,
        banks=banks,
        row_items=row_items,
        fusion_cls=_NoFusion,
        blocks={m: b.tolist() for m, b in blocks.items()},
        n_outputs=1,
        hidden_dim=1,
        dropout=0.0,
        missing="zero",
        modality_dropout=0.0,
        mean=np.zeros(start, np.float32),
        scale=np.ones(start, np.float32),
    ).eval()
    feats = np.empty((n, start), dtype=np.float32)
    with torch.no_grad():
        for s in range(0, n, 256):
            rows = np.arange(s, min(s + 256, n))
            feats[rows] = probe.features(rows).cpu().numpy()
    return {
        "towers": towers,
        "banks": banks,
        "row_items": row_items,
        "blocks": blocks,
        "features": feats,
        "names": [cols[m][1] for m in towers],
    }


class _NoFusion(nn.Module):
    """A placeholder fusion for the probe that computes initial blocks."""

    def __init__(self, dims: dict, **kw: Any):
        super().__init__()

    def forward(self, blocks: dict, mask: torch.Tensor) -> torch.Tensor:
        return mask.float()


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
    saved = module.banks, module.row_items
    module.banks, module.row_items = banks, row_items
    was = module.training
    module.eval()
    width = sum(t.out_dim for t in module.towers.values())
    out = np.empty((n, width), dtype=np.float32)
    try:
        with torch.no_grad():
            for s in range(0, n, 256):
                rows = np.arange(s, min(s + 256, n))
                out[rows] = module.features(rows).cpu().numpy()
    finally:
        module.banks, module.row_items = saved
        module.train(was)
    return out


def drop_banks(module: TunedFusionNetwork) -> None:
    module.banks, module.row_items = {}, {}


# ------------------------------------------------------------------ pickle
def getstate(est: Any, state: dict) -> dict:
    """Replace the net by the tuned delta (safetensors) and its config."""
    net = state.pop("net_", None)
    if net is not None:
        module = net.module_
        state["_tuned_delta"] = save_delta(module)
        state["_tuned_device"] = str(net.device)
    return state


def restore(est: Any) -> _RestoredNet:
    """Rebuild the towers from the base weights and load the tuned delta."""
    from sklearn.utils.validation import check_is_fitted

    blob = est.__dict__.get("_tuned_delta")
    if blob is None:
        check_is_fitted(est, "net_")
    device = est.__dict__.get("_tuned_device", "cpu")
    if device.startswith("cuda") and not torch.cuda.is_available():
        warnings.warn(
            f"{type(est).__name__} was trained on {device!r} but CUDA is not "
            "available here; loading it on the CPU.",
            UserWarning,
            stacklevel=4,
        )
        device = "cpu"
    lora = _per_modality(est, est.lora, "lora", None)
    towers = _build_towers(est, est.encoders_, est._unfreeze_spec, lora, 0)
    module = TunedFusionNetwork(
        towers=towers, precision=est.precision, **est._tuned_config
    )
    load_delta(module, blob)
    module.to(device).eval()
    net = _RestoredNet(module, device)
    est.__dict__["net_"] = net
    return net
