"""What every fine-tuning estimator shares: reading a raw column into
prepared items, the per-tower prefix banks, the skorch net (gradient
accumulation, bf16 autocast on CUDA, gradient clipping), the InfoNCE loss
with hard-negative weighting, validation with early stopping on MRR, and
the tuned delta saved as safetensors."""

from __future__ import annotations

import math
import uuid
import warnings
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from skorch import NeuralNet
from skorch.callbacks import Callback
from skorch.dataset import unpack_data
from torch import nn

from skmm.base._cells import Column, _file_key
from skmm.finetune._prefix import PrefixStore
from skmm.finetune._towers import BaseTower

__all__ = [
    "FinetuneNet",
    "InfoNCELoss",
    "PreparedColumn",
    "TowerBank",
    "ValidationMRR",
    "drop_banks",
    "load_delta",
    "prepare_column",
    "RestoredNet",
    "restore_device",
    "restore_tuned",
    "save_delta",
]

MAX_LOGIT_SCALE = math.log(100.0)


# ------------------------------------------------------------------ input
class PreparedColumn:
    """A raw column read by its encoder: unique prepared items, their cache
    keys, and each row's item (``-1``: missing or unreadable)."""

    def __init__(self, items: list, keys: list[str], row_item: np.ndarray):
        self.items = items
        self.keys = keys
        self.row_item = row_item


def prepare_column(encoder: Any, cells: list, name: str, rows: list) -> PreparedColumn:
    """Read ``cells`` with ``encoder``'s own rules: missing cells and (with
    ``on_error="nan"``) unreadable ones map to ``-1``; with
    ``on_error="raise"`` a bad cell raises an error naming the column and
    row.  Identical cells are read once."""
    col = Column(list(cells), name, list(rows))
    inverse, first, keys = encoder._unique_valid(col)
    failures: list = []
    items: list = []
    file_keys: list[str] = []
    remap = np.full(len(first), -1, dtype=np.int64)
    for u, pos in enumerate(first):
        prepared = encoder._prepare_checked(col, pos, failures)
        if prepared is None:
            continue
        remap[u] = len(items)
        items.append(prepared)
        fk = _file_key(keys[u])
        # an item without a content key is never shared with another call
        file_keys.append(fk if fk is not None else f"unkeyed-{uuid.uuid4().hex}")
    encoder._report_failures(col, failures, len(first))
    if not first:  # every cell missing
        return PreparedColumn([], [], np.full(len(col.cells), -1, dtype=np.int64))
    row_item = np.where(inverse >= 0, remap[np.maximum(inverse, 0)], -1)
    return PreparedColumn(items, file_keys, row_item.astype(np.int64))


def prefix_root(encoder: Any) -> Any:
    """The disk folder for an encoder's prefixes (its ``cache=``), or None."""
    cache = getattr(encoder, "cache", None)
    if cache is None or cache is False:
        return None
    from skmm.cache._store import default_cache_dir

    return default_cache_dir() if cache is True else cache


class TowerBank:
    """The frozen-prefix outputs of one tower for a set of unique items,
    for each view; ``cache=False`` recomputes them at every access (the
    baseline the prefix cache is measured against)."""

    def __init__(
        self,
        tower: BaseTower,
        column: PreparedColumn,
        *,
        n_views: int,
        cache: bool = True,
        batch_size: int = 64,
        progress: Any = None,
    ):
        self.tower = tower
        self.column = column
        self.n_views = int(n_views)
        self.cache = cache
        self.batch_size = batch_size
        self.arrays: list[list[np.ndarray]] = []
        if cache:
            store = PrefixStore(tower.prefix_namespace(), prefix_root(tower.encoder))
            for view in range(self.n_views):
                self.arrays.append(
                    store.get(
                        [f"{k}-v{view}" for k in column.keys],
                        list(zip(column.keys, column.items)),
                        self._computer(view),
                        batch_size=batch_size,
                        progress=progress,
                    )
                )

    def _computer(self, view: int):
        def compute(pairs: list) -> list[np.ndarray]:
            keys = [k for k, _ in pairs]
            return self.tower.compute_prefix([it for _, it in pairs], view, keys)

        return compute

    def get(self, items: np.ndarray, views: np.ndarray) -> list[np.ndarray]:
        if self.cache:
            return [self.arrays[v][i] for i, v in zip(items, views)]
        out: list[np.ndarray | None] = [None] * len(items)
        for view in np.unique(views):
            sel = np.flatnonzero(views == view)
            idx = items[sel]
            values = self.tower.compute_prefix(
                [self.column.items[i] for i in idx],
                int(view),
                [self.column.keys[i] for i in idx],
            )
            for s, v in zip(sel, values):
                out[s] = v
        return out  # type: ignore[return-value]


# ------------------------------------------------------------------- loss
class InfoNCELoss(nn.Module):
    """CLIP's symmetric InfoNCE over in-batch negatives, with optional
    hard-negative weighting (Robinson et al., 2021).

    ``y_pred`` is ``(z_query, z_target, logit_scale)``; ``y_true`` holds
    integer group codes: batch items of one group are positives of each
    other, every other item is a negative.  ``hard_negatives = beta > 0``
    reweights each row's negatives by ``softmax(beta * similarity)``
    (mean weight 1), so the negatives closest to the query count most.
    """

    def __init__(self, hard_negatives: float = 0.0):
        super().__init__()
        self.hard_negatives = float(hard_negatives)

    def _one_side(self, logits: torch.Tensor, pos: torch.Tensor, sim: torch.Tensor):
        if self.hard_negatives > 0:
            neg = 1.0 - pos
            w = torch.where(
                neg > 0, self.hard_negatives * sim.detach(), torch.full_like(sim, -1e4)
            ).softmax(dim=1)
            w = w * neg.sum(dim=1, keepdim=True)  # mean negative weight 1
            logits = logits + torch.where(neg > 0, torch.log(w + 1e-12), 0.0)
        targets = pos / pos.sum(dim=1, keepdim=True)
        return F.cross_entropy(logits, targets)

    def forward(self, y_pred: Any, y_true: torch.Tensor) -> torch.Tensor:
        zq, zt, scale = y_pred
        sim = zq @ zt.T
        logits = scale * sim
        groups = y_true.reshape(-1)
        pos = (groups[:, None] == groups[None, :]).to(logits.dtype)
        return 0.5 * (
            self._one_side(logits, pos, sim) + self._one_side(logits.T, pos, sim.T)
        )


# -------------------------------------------------------------------- net
class FinetuneNet(NeuralNet):
    """A skorch ``NeuralNet`` with gradient accumulation (``accumulate``
    batches per optimizer step) and gradient-norm clipping."""

    def __init__(
        self, *args: Any, accumulate: int = 1, max_grad_norm: float = 1.0, **kw
    ):
        super().__init__(*args, **kw)
        self.accumulate = accumulate
        self.max_grad_norm = max_grad_norm

    def on_epoch_begin(self, net: Any, **kwargs: Any) -> None:
        super().on_epoch_begin(net, **kwargs)
        self._acc_step = 0

    def train_step(self, batch: Any, **fit_params: Any) -> dict:
        acc = max(1, int(self.accumulate))
        step = getattr(self, "_acc_step", 0)
        if step % acc == 0:
            self.optimizer_.zero_grad()
        self._set_training(True)
        Xi, yi = unpack_data(batch)
        y_pred = self.infer(Xi, **fit_params)
        loss = self.get_loss(y_pred, yi, X=Xi, training=True)
        (loss / acc).backward()
        self._acc_step = step + 1
        if self._acc_step % acc == 0:
            if self.max_grad_norm:
                params = [p for p in self.module_.parameters() if p.requires_grad]
                torch.nn.utils.clip_grad_norm_(params, self.max_grad_norm)
            self.optimizer_.step()
        return {"loss": loss.detach(), "y_pred": y_pred}


class ValidationMRR(Callback):
    """Score the held-out rows after each epoch (mean of the two
    directions' MRR), keep the best trainable weights, stop after
    ``patience`` epochs without improvement, restore the best at the end.

    ``embed(role) -> (n, d)`` embeds the held-out rows with the net's
    module in eval mode (in chunks); ``labels`` are their group codes.
    """

    def __init__(self, embed: Any, roles: tuple, labels: np.ndarray, patience: int):
        self.embed = embed
        self.roles = roles
        self.labels = labels
        self.patience = patience

    def initialize(self) -> ValidationMRR:
        self.best_ = -np.inf
        self.best_epoch_ = 0
        self.best_state_: dict | None = None
        self._wait = 0
        self._epoch = 0
        return self

    def score(self, net: Any) -> float:
        from skmm.metrics import mean_reciprocal_rank

        module = net.module_
        was = module.training
        module.eval()
        try:
            with torch.no_grad():
                zq = self.embed(self.roles[0])
                zt = self.embed(self.roles[1])
        finally:
            module.train(was)
        S = zq @ zt.T
        kw = {"query_labels": self.labels, "gallery_labels": self.labels}
        return 0.5 * (mean_reciprocal_rank(S, **kw) + mean_reciprocal_rank(S.T, **kw))

    def on_epoch_end(self, net: Any, **kwargs: Any) -> None:
        self._epoch += 1
        value = float(self.score(net))
        net.history.record("valid_mrr", value)
        if value > self.best_ + 1e-6:
            self.best_ = value
            self.best_epoch_ = self._epoch
            self._wait = 0
            self.best_state_ = {
                k: v.detach().cpu().clone() for k, v in net.module_.state_dict().items()
            }
            net.history.record("valid_mrr_best", True)
        else:
            self._wait += 1
            net.history.record("valid_mrr_best", False)
            if self.patience and self._wait >= self.patience:
                raise KeyboardInterrupt  # skorch's way to stop the fit loop

    def on_train_end(self, net: Any, **kwargs: Any) -> None:
        if self.best_state_ is not None:
            net.module_.load_state_dict(self.best_state_)


# ------------------------------------------------------------------ delta
def save_delta(module: nn.Module) -> bytes:
    """What ``module`` learned, as safetensors bytes (CPU, float32): its
    state dict without the frozen parameters (``requires_grad=False``: the
    base layers under LoRA adapters), which reload from the base weights."""
    from safetensors.torch import save

    frozen = {n for n, p in module.named_parameters() if not p.requires_grad}
    tensors = {
        n: (t.detach().to("cpu", torch.float32) if t.is_floating_point() else t.cpu())
        .contiguous()
        .clone()
        for n, t in module.state_dict().items()
        if n not in frozen
    }
    return save(tensors)


def load_delta(module: nn.Module, blob: bytes) -> None:
    """Load a :func:`save_delta` blob into a module built from the base
    weights; everything but the frozen parameters must be in it."""
    from safetensors.torch import load

    tensors = load(blob)
    frozen = {n for n, p in module.named_parameters() if not p.requires_grad}
    state = module.state_dict()
    missing = set(state) - set(tensors) - frozen
    unknown = set(tensors) - set(state)
    if missing or unknown:
        raise ValueError(
            "The tuned weights do not match the model built from the base "
            f"weights (missing {sorted(missing)[:5]}, unexpected "
            f"{sorted(unknown)[:5]}): were the base weights changed?"
        )
    module.load_state_dict(tensors, strict=False)


def per_modality(value: Any, name: str, default: Any, modalities: list, owner: str):
    """A per-tower setting as ``{modality: value}``: one value for every
    tower, or a dict (towers it leaves out take ``default``, itself a value
    or a dict); a modality without a tower is an error."""
    if value is None:
        value = default
    if not isinstance(value, dict):
        return {m: value for m in modalities}
    unknown = set(value) - set(modalities)
    if unknown:
        raise ValueError(
            f"{owner}: {name} names modalities {sorted(unknown)} that have no "
            f"tower; the towers are {list(modalities)}."
        )
    fallback = default if isinstance(default, dict) else {}
    return {
        m: value.get(m, fallback.get(m) if isinstance(default, dict) else default)
        for m in modalities
    }


def drop_banks(module: nn.Module) -> None:
    """Forget the training rows' prefix banks held by a trained module."""
    module.banks, module.row_items = {}, {}


class RestoredNet:
    """Stands for the skorch net of a fine-tuning estimator after unpickling:
    the module rebuilt from the base weights and the tuned delta."""

    def __init__(self, module: nn.Module, device: Any):
        self.module_ = module
        self.device = str(device)
        self.history = None


def restore_tuned(est: Any, device: Any, build_module: Any) -> RestoredNet:
    """Rebuild a fine-tuning estimator's network after unpickling: the module
    from ``build_module()`` (the towers from the base weights), then the tuned
    delta the pickle carries (``est._tuned_delta``), on ``device`` (or the
    CPU, with a warning, when CUDA is gone); sets and returns ``est.net_``."""
    from sklearn.utils.validation import check_is_fitted

    blob = est.__dict__.get("_tuned_delta")
    if blob is None:
        check_is_fitted(est, "net_")
    device = restore_device(device, type(est).__name__)
    module = build_module()
    load_delta(module, blob)
    module.to(device).eval()
    net = RestoredNet(module, device)
    est.__dict__["net_"] = net
    return net


def restore_device(device: Any, owner: str) -> torch.device:
    """Where an unpickled model goes: ``device``, or the CPU (with a
    warning) when it asks for CUDA and none is present."""
    from skmm.utils._device import resolve_device

    if str(device).startswith("cuda") and not torch.cuda.is_available():
        warnings.warn(
            f"{owner} was saved for device={str(device)!r} but CUDA is not "
            "available here; loading it on the CPU.",
            UserWarning,
            stacklevel=4,
        )
        device = "cpu"
    return resolve_device(device)


def autocast_context(device: torch.device, precision: str):
    """bf16 autocast on CUDA (``precision="bf16"`` or ``"auto"``), else a
    no-op."""
    import contextlib

    if device.type == "cuda" and precision in ("auto", "bf16"):
        return torch.autocast(device_type="cuda", dtype=torch.bfloat16)
    return contextlib.nullcontext()
