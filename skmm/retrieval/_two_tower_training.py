"""TwoTowerRetriever's network and its training loop.

:class:`~skmm.retrieval.TwoTowerRetriever` (``_two_tower.py``) reads the
raw columns and fits the encoders; this module holds what it trains: the
network over the towers' trainable suffixes, the row groups and the
validation split, the frozen-prefix banks, the skorch training run, the
batched embedding of items, the search space and the pickle round trip.
Torch is imported inside the functions, so ``import skmm.retrieval`` stays
light.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from skmm.retrieval._base import skorch_params

__all__ = [
    "build_towers",
    "embed_items",
    "new_network",
    "network_cls",
    "prefix_banks",
    "restore_network",
    "row_groups",
    "train_network",
    "tuned_state",
    "two_tower_space",
    "validation_split",
]


def network_cls() -> type:
    import torch
    from torch import nn

    from skmm.finetune._training import MAX_LOGIT_SCALE, autocast_context

    class TwoTowerNetwork(nn.Module):
        """The trainable suffix of each tower, a projection head per tower
        (layer norm + linear) and a learnable temperature.

        ``forward(rows)`` embeds the query and the target item of each row
        from the prefix banks (a random augmented view per item when
        training) and returns ``(z_query, z_target, logit_scale)``.
        """

        def __init__(
            self,
            towers: dict,
            embed_dim: int,
            temperature: float,
            learn_temperature: bool,
            precision: str,
            dropout: float = 0.0,
        ):
            super().__init__()
            self.towers = towers  # role -> BaseTower (plain dict, not modules)
            self.suffixes = nn.ModuleDict({r: t.suffix for r, t in towers.items()})
            self.heads = nn.ModuleDict(
                {
                    r: nn.Sequential(
                        nn.LayerNorm(t.out_dim),
                        nn.Dropout(dropout),
                        nn.Linear(t.out_dim, embed_dim),
                    )
                    for r, t in towers.items()
                }
            )
            init = torch.tensor(np.log(1.0 / temperature), dtype=torch.float32)
            self.log_logit_scale = nn.Parameter(init, requires_grad=learn_temperature)
            self.precision = precision
            self.banks: dict = {}
            self.row_items: dict = {}

        def logit_scale(self) -> torch.Tensor:
            return self.log_logit_scale.clamp(0.0, MAX_LOGIT_SCALE).exp()

        def embed_arrays(self, role: str, arrays: list) -> torch.Tensor:
            device = self.log_logit_scale.device
            tower = self.towers[role]
            inputs = tower.collate(arrays, device)
            with autocast_context(device, self.precision):
                pooled = self.suffixes[role](*inputs)
                z = self.heads[role](pooled.float())
            return torch.nn.functional.normalize(z.float(), dim=-1)

        def embed_rows(self, role: str, rows: np.ndarray) -> torch.Tensor:
            bank = self.banks[role]
            items = self.row_items[role][rows]
            if self.training and bank.n_views > 1:
                views = torch.randint(bank.n_views, (len(items),)).numpy()
            else:
                views = np.zeros(len(items), dtype=np.int64)
            return self.embed_arrays(role, bank.get(items, views))

        def forward(self, rows: torch.Tensor):
            idx = rows.detach().cpu().numpy().astype(np.int64)
            return (
                self.embed_rows("query", idx),
                self.embed_rows("target", idx),
                self.logit_scale(),
            )

    return TwoTowerNetwork


def row_groups(y: Any, prepared: dict, rows_ok: np.ndarray, n: int) -> np.ndarray:
    """Integer group codes per row (-1 outside ``rows_ok``)."""
    groups = np.full(n, -1, dtype=np.int64)
    if y is not None:
        y = np.asarray(y)
        if y.ndim == 2 and y.shape[1] == 1:
            y = y.ravel()
        if y.shape[0] != n:
            raise ValueError(f"y has {y.shape[0]} entries but X has {n} rows.")
        _, codes = np.unique(y[rows_ok], return_inverse=True)
        groups[rows_ok] = codes
        return groups
    # rows sharing an identical text or image are positives of each other
    parent = np.arange(n)

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for role in ("query", "target"):
        first: dict = {}
        for r in rows_ok:
            item = int(prepared[role].row_item[r])
            if item in first:
                a, b = find(r), find(first[item])
                if a != b:
                    parent[a] = b
            else:
                first[item] = r
    roots = np.array([find(r) for r in rows_ok])
    _, codes = np.unique(roots, return_inverse=True)
    groups[rows_ok] = codes
    return groups


def validation_split(
    groups: np.ndarray, fraction: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Training and validation rows: a ``fraction`` of the groups held out
    (none when too few groups would be left on either side)."""
    rows = np.flatnonzero(groups >= 0)
    uniq = np.unique(groups[rows])
    n_valid = int(round(fraction * uniq.size))
    if fraction == 0 or n_valid < 2 or uniq.size - n_valid < 2:
        return rows, np.empty(0, dtype=np.int64)
    rng = np.random.default_rng(seed)
    held = set(rng.permutation(uniq)[:n_valid].tolist())
    is_valid = np.array([g in held for g in groups[rows]])
    return rows[~is_valid], rows[is_valid]


def prefix_banks(est: Any, towers: dict, prepared: dict) -> dict:
    """Each tower's frozen-prefix bank of the prepared items (a progress
    bar when ``est.verbose``)."""
    from tqdm.auto import tqdm

    from skmm.finetune._training import TowerBank

    banks = {}
    total = sum(len(prepared[r].items) * t.n_views for r, t in towers.items())
    with tqdm(
        total=total,
        desc=f"{type(est).__name__}: frozen prefix",
        unit="item",
        disable=not est.verbose,
        leave=False,
    ) as bar:
        for role, tower in towers.items():
            banks[role] = TowerBank(
                tower,
                prepared[role],
                n_views=tower.n_views,
                cache=est.cache_prefix,
                progress=bar,
            )
    return banks


def build_towers(
    est: Any, encoders: dict, unfreeze: dict, lora: dict, augment_views: int
) -> dict:
    """Role -> tower of each fitted encoder (augmented views on the image)."""
    from skmm.finetune._towers import make_tower

    roles = {"query": est.query, "target": est.target}
    return {
        role: make_tower(
            encoders[m],
            unfreeze[m],
            lora=lora[m],
            augment_views=augment_views if m == "image" else 0,
            augment_flip=est.augment_flip,
            # views are fixed per item (not per fit), so every fit, fold
            # and trial shares them; random_state picks views per epoch
            seed=0,
            owner=type(est).__name__,
        )
        for role, m in roles.items()
    }


def new_network(est: Any, towers: dict, embed_dim: int) -> Any:
    """A TwoTowerNetwork over ``towers`` with ``est``'s head and temperature."""
    return network_cls()(
        towers,
        embed_dim,
        est.temperature,
        est.learn_temperature,
        est.precision,
        est.dropout,
    )


def train_network(
    est: Any,
    towers: dict,
    banks: dict,
    row_items: dict,
    groups: np.ndarray,
    rows: tuple[np.ndarray, np.ndarray],
    tower_lr: dict,
    seed: int,
    device: Any,
) -> None:
    """Train the network on the training ``rows``, stopping early on the
    validation rows' MRR, inside ``torch.random.fork_rng``.

    Sets ``net_`` (before training: per-epoch callbacks embed with it),
    ``temperature_``, ``loss_curve_``, ``validation_curve_``,
    ``best_epoch_``, ``n_iter_`` and ``fit_times_["train"]`` on ``est``.
    """
    import torch

    from skmm.finetune._training import (
        FinetuneNet,
        InfoNCELoss,
        ValidationMRR,
        drop_banks,
    )

    train_rows, valid_rows = rows
    roles = {"query": est.query, "target": est.target}
    with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
        torch.manual_seed(seed)
        module = new_network(est, towers, est.embed_dim)
        module.banks = banks
        module.row_items = row_items
        module.to(device)
        callbacks = []
        validation = None
        if valid_rows.size:

            def embed_valid(role: str) -> np.ndarray:
                return np.concatenate(
                    [
                        module.embed_rows(role, valid_rows[s : s + 512]).cpu().numpy()
                        for s in range(0, valid_rows.size, 512)
                    ]
                )

            validation = ValidationMRR(
                embed_valid, ("query", "target"), groups[valid_rows], est.patience
            )
            callbacks.append(("validation_mrr", validation))
        callbacks += list(est.callbacks or [])
        param_groups = [
            (f"suffixes.{role}.*", {"lr": float(tower_lr[m])})
            for role, m in roles.items()
        ]
        net = FinetuneNet(
            module=module,
            criterion=InfoNCELoss,
            criterion__hard_negatives=est.hard_negatives,
            optimizer__param_groups=param_groups,
            accumulate=est.accumulate,
            **skorch_params(est, train_rows.size, callbacks, device),
        )
        est.net_ = net
        t1 = time.perf_counter()
        net.fit(train_rows.astype(np.int64), groups[train_rows])
    module.eval()
    est.temperature_ = float(1.0 / module.logit_scale().item())
    est.loss_curve_ = [float(v) for v in net.history[:, "train_loss"]]
    est.validation_curve_ = (
        [float(v) for v in net.history[:, "valid_mrr"]] if validation else []
    )
    est.best_epoch_ = (
        int(validation.best_epoch_) if validation else len(est.loss_curve_)
    )
    est.n_iter_ = len(net.history)
    est.fit_times_["train"] = float(time.perf_counter() - t1)
    drop_banks(module)  # the training rows' prefixes: not kept


def embed_items(
    module: Any, role: str, column: Any, *, dim: int, cache: bool
) -> np.ndarray:
    """Unit vectors of a prepared column's items through ``role``'s tower
    and head (in eval mode, without gradients)."""
    import torch

    from skmm.finetune._training import TowerBank

    bank = TowerBank(module.towers[role], column, n_views=1, cache=cache)
    n = len(column.items)
    z = np.empty((n, dim), dtype=np.float32)
    was = module.training
    module.eval()
    try:
        with torch.no_grad():
            for start in range(0, n, 256):
                idx = np.arange(start, min(start + 256, n))
                arrays = bank.get(idx, np.zeros(idx.size, dtype=np.int64))
                z[idx] = module.embed_arrays(role, arrays).cpu().numpy()
    finally:
        module.train(was)
    return z


def two_tower_space(trial: Any, estimator: Any = None) -> dict[str, Any]:
    """:meth:`TwoTowerRetriever.search_space`: how deep each tower trains
    (bounded by the towers' depths), LoRA, and the head's settings."""
    from skmm.model_selection._space import tower_depths, tuning_space

    if estimator is None:
        depths = {"text": 6, "image": 19}
    else:
        encoders = {
            m: estimator._encoder_for(m) for m in (estimator.query, estimator.target)
        }
        depths = tower_depths(encoders)
    params = tuning_space(trial, depths)
    params.update(
        {
            "lr": trial.suggest_float("lr", 1e-4, 1e-2, log=True),
            "embed_dim": trial.suggest_categorical("embed_dim", [128, 256, 512]),
            "hard_negatives": trial.suggest_categorical(
                "hard_negatives", [0.0, 1.0, 5.0]
            ),
        }
    )
    return params


def tuned_state(state: dict) -> dict:
    """A fitted retriever's pickle state: the trained net replaced by its
    tuned delta (the state dict minus the frozen parameters)."""
    from skmm.finetune._training import save_delta

    net = state.pop("net_", None)
    if net is not None:
        state["_tuned_delta"] = save_delta(net.module_)
    return state


def restore_network(est: Any) -> Any:
    """Rebuild ``est.net_`` after unpickling (towers from the base weights,
    then the tuned delta)."""
    from skmm.finetune._training import restore_tuned

    def build() -> Any:
        lora = est._per_modality(est.lora, "lora", {})
        towers = build_towers(est, est.encoders_, est._unfreeze_spec, lora, 0)
        return new_network(est, towers, est.embed_dim_)

    return restore_tuned(est, est.device, build)
