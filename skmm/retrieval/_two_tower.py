"""TwoTowerRetriever: pretrained encoders fine-tuned end to end as two
towers with symmetric InfoNCE."""

from __future__ import annotations

import numbers
import time
import warnings
from typing import Any, ClassVar

import numpy as np
from sklearn.base import clone

from skmm.retrieval._base import BaseRetriever
from skmm.retrieval._validation import MissingModalityWarning
from skmm.utils._sklearn_compat import (
    HasMethods,
    Interval,
    StrOptions,
    _fit_context,
    check_is_fitted,
)

__all__ = ["TwoTowerRetriever"]

_MODALITIES = ("text", "image")
_DEFAULT_UNFREEZE = {"text": 2, "image": 3}


def _default_encoder(modality: str) -> Any:
    if modality == "text":
        from skmm.text import TextEncoder

        return TextEncoder("minilm", verbose=0)
    from skmm.image import ImageEncoder

    return ImageEncoder("mobilenet_v2", size=128, verbose=0)


def _network_cls() -> type:
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


class TwoTowerRetriever(BaseRetriever):
    """Fine-tune a text and an image encoder end to end for cross-modal search.

    Fitted on a table of *raw* columns (texts, image cells) where row ``i``'s
    text describes row ``i``'s image.  Each modality's pretrained encoder is a
    *tower*: its last ``unfreeze`` blocks (transformer layers, CNN blocks)
    train, everything below them (the *frozen prefix*) is computed once per
    item and kept (in memory, and on disk when the encoder has ``cache=``),
    so epochs, folds and search trials run only the trainable suffix.  A
    projection head per tower (layer norm + linear) maps into a shared
    ``embed_dim`` space; towers, heads and a learnable temperature train
    with CLIP's symmetric InfoNCE over in-batch negatives (optionally
    weighted towards the hardest ones), through skorch.  A validation split
    by group chooses the epoch: training stops when the validation MRR has
    not improved for ``patience`` epochs and the best weights are kept.

    Parameters
    ----------
    text : encoder, optional
        The text tower; default ``TextEncoder("minilm")``.  Any skmm encoder:
        ``TextEncoder`` can be fine-tuned, other encoders are locked towers.
    image : encoder, optional
        The image tower; default ``ImageEncoder("mobilenet_v2", size=128)``.
        ``ImageEncoder`` can be fine-tuned.
    query : str, default="text"
        Modality of the queries at fit (either direction can be searched).
    target : str, default="image"
        Modality of the gallery items at fit.
    columns : dict, optional
        Modality -> column of ``X`` (``{"text": "caption", "image":
        "photo"}``); by default the columns named ``"text"`` and ``"image"``.
    unfreeze : int, "all" or dict, default={"text": 2, "image": 3}
        Trainable last blocks per tower: ``{"text": 2, "image": 3}`` trains
        MiniLM's last 2 of 6 layers and MobileNetV2's last 3 of 19 blocks;
        ``0`` locks a tower (LiT); ``"all"`` trains the whole model.  One
        value applies to both towers.
    lora : int, dict or None, default=None
        LoRA rank of adapters on the unfrozen transformer layers (``peft``,
        extra ``lora``) instead of training their weights; a dict gives it
        per tower (image towers are always tuned directly).
    embed_dim : int, default=256
        Dimension of the shared space.
    dropout : float, default=0.2
        Dropout on each head's input features while training.
    lr : float, default=3e-4
        Learning rate of the heads and the temperature (AdamW).
    tower_lr : float or dict, default=3e-5
        Learning rate of the trainable tower blocks, one or per tower.
    weight_decay : float, default=0.01
        AdamW weight decay.
    temperature : float, default=0.07
        Initial temperature (CLIP's).
    learn_temperature : bool, default=True
        Train the temperature.
    hard_negatives : float, default=0.0
        Weight of the hardest in-batch negatives (``beta`` of Robinson et
        al., 2021); ``0`` is plain InfoNCE.
    max_epochs : int, default=20
        Upper bound of epochs.
    batch_size : int, default=128
        Pairs per batch (the in-batch negatives).
    accumulate : int, default=1
        Batches per optimizer step (gradient accumulation).
    validation_fraction : float, default=0.1
        Share of the groups (or rows) held out for early stopping; ``0``
        trains ``max_epochs`` on everything.
    patience : int, default=4
        Epochs without a better validation MRR before stopping.
    augment_views : int, default=2
        Augmented views (random resized crops) per training image, computed
        through the frozen prefix once and sampled each epoch; ``0`` turns
        augmentation off.
    augment_flip : bool, default=False
        Also mirror augmented views (off by default: mirroring changes the
        meaning of arrows, text and hands in clip art).
    cache_prefix : bool, default=True
        Keep the frozen prefix per item; ``False`` recomputes it at every
        step (for measuring; much slower).
    precision : {"auto", "bf16", "fp32"}, default="auto"
        ``"auto"``/``"bf16"``: bf16 autocast on CUDA; the CPU runs float32.
    device : {"auto", "cpu", "cuda", ...}, default="auto"
        Where the towers train; ``"auto"`` picks CUDA when present.
    random_state : int, RandomState or None, default=None
        Seeds initialisation, batch order, views and the validation split.
    verbose : int, default=0
        skorch's per-epoch log when > 0.
    search_index : {"exact", "faiss-flat", "faiss-ivf", "faiss-hnsw"} or index, \
default="exact"
        The index :meth:`index` builds.
    callbacks : list of skorch callbacks, default=None
        Extra skorch callbacks (e.g. :class:`skmm.model_selection.EpochPruning`).

    Attributes
    ----------
    encoders_ : dict
        Modality -> the fitted encoder of each tower.
    unfreeze_ : dict
        Modality -> trainable blocks; ``depth_`` the towers' depths.
    embed_dim_ : int
        Dimension of the shared space.
    n_pairs_ : int
        Complete pairs used at fit (training and validation).
    net_ : skorch.NeuralNet
        The trained net (``net_.module_`` holds the suffixes and heads).
    temperature_ : float
        The final temperature.
    loss_curve_, validation_curve_ : list of float
        Training loss and validation MRR per epoch.
    best_epoch_ : int
        The epoch whose weights were kept (the last without validation).
    n_iter_ : int
        Epochs run.
    fit_times_ : dict
        Seconds spent on the frozen prefix and on training.
    gallery_index_ : index
        The gallery built by :meth:`index` (absent before).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from skmm.image import ColorHistogramEncoder
    >>> from skmm.retrieval import TwoTowerRetriever
    >>> from skmm.text import TfidfTextEncoder
    >>> colours = {"red": (220, 30, 30), "green": (30, 200, 40),
    ...            "blue": (30, 40, 220), "yellow": (230, 220, 30)}
    >>> df = pd.DataFrame({
    ...     "text": [f"a {c} square" for c in colours] * 5,
    ...     "image": [np.full((8, 8, 3), c, np.uint8) for c in colours.values()] * 5,
    ... })
    >>> r = TwoTowerRetriever(text=TfidfTextEncoder(), image=ColorHistogramEncoder(),
    ...                       unfreeze=0, embed_dim=8, max_epochs=40, lr=0.05,
    ...                       validation_fraction=0, random_state=0, device="cpu")
    >>> r = r.fit(df)
    >>> r.embed(df, modality="image").shape
    (20, 8)
    >>> r.score(df[:4], metric="recall@1")
    1.0
    """

    _parameter_constraints: ClassVar[dict] = {
        "query": [StrOptions(set(_MODALITIES))],
        "target": [StrOptions(set(_MODALITIES))],
        "text": [HasMethods(["fit", "transform"]), None],
        "image": [HasMethods(["fit", "transform"]), None],
        "columns": [dict, None],
        "unfreeze": [
            Interval(numbers.Integral, 0, None, closed="left"),
            StrOptions({"all"}),
            dict,
            None,
        ],
        "lora": [Interval(numbers.Integral, 1, None, closed="left"), dict, None],
        "embed_dim": [Interval(numbers.Integral, 1, None, closed="left")],
        "dropout": [Interval(numbers.Real, 0, 1, closed="left")],
        "lr": [Interval(numbers.Real, 0, None, closed="neither")],
        "tower_lr": [Interval(numbers.Real, 0, None, closed="neither"), dict],
        "weight_decay": [Interval(numbers.Real, 0, None, closed="left")],
        "temperature": [Interval(numbers.Real, 0.01, None, closed="left")],
        "learn_temperature": ["boolean"],
        "hard_negatives": [Interval(numbers.Real, 0, None, closed="left")],
        "max_epochs": [Interval(numbers.Integral, 1, None, closed="left")],
        "batch_size": [Interval(numbers.Integral, 2, None, closed="left")],
        "accumulate": [Interval(numbers.Integral, 1, None, closed="left")],
        "validation_fraction": [Interval(numbers.Real, 0, 1, closed="left")],
        "patience": [Interval(numbers.Integral, 0, None, closed="left")],
        "augment_views": [Interval(numbers.Integral, 0, None, closed="left")],
        "augment_flip": ["boolean"],
        "cache_prefix": ["boolean"],
        "precision": [StrOptions({"auto", "bf16", "fp32"})],
        "device": "no_validation",
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "search_index": [
            StrOptions({"exact", "faiss-flat", "faiss-ivf", "faiss-hnsw"}),
            HasMethods(["add", "search"]),
        ],
        "callbacks": [list, None],
    }

    def __init__(
        self,
        *,
        text: Any = None,
        image: Any = None,
        query: str = "text",
        target: str = "image",
        columns: dict | None = None,
        unfreeze: Any = None,
        lora: Any = None,
        embed_dim: int = 256,
        dropout: float = 0.2,
        lr: float = 3e-4,
        tower_lr: Any = 3e-5,
        weight_decay: float = 0.01,
        temperature: float = 0.07,
        learn_temperature: bool = True,
        hard_negatives: float = 0.0,
        max_epochs: int = 20,
        batch_size: int = 128,
        accumulate: int = 1,
        validation_fraction: float = 0.1,
        patience: int = 4,
        augment_views: int = 2,
        augment_flip: bool = False,
        cache_prefix: bool = True,
        precision: str = "auto",
        device: Any = "auto",
        random_state: Any = None,
        verbose: int = 0,
        search_index: Any = "exact",
        callbacks: list | None = None,
    ):
        self.text = text
        self.image = image
        self.query = query
        self.target = target
        self.columns = columns
        self.unfreeze = unfreeze
        self.lora = lora
        self.embed_dim = embed_dim
        self.dropout = dropout
        self.lr = lr
        self.tower_lr = tower_lr
        self.weight_decay = weight_decay
        self.temperature = temperature
        self.learn_temperature = learn_temperature
        self.hard_negatives = hard_negatives
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.accumulate = accumulate
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.augment_views = augment_views
        self.augment_flip = augment_flip
        self.cache_prefix = cache_prefix
        self.precision = precision
        self.device = device
        self.random_state = random_state
        self.verbose = verbose
        self.search_index = search_index
        self.callbacks = callbacks

    @classmethod
    def get_test_params(cls) -> list[dict]:
        """Cheap parameter sets for conformance tests (classic locked towers)."""
        from skmm.image import ColorHistogramEncoder
        from skmm.text import TfidfTextEncoder

        return [
            {
                "text": TfidfTextEncoder(),
                "image": ColorHistogramEncoder(bins=4),
                "unfreeze": 0,
                "embed_dim": 4,
                "max_epochs": 2,
                "random_state": 0,
                "device": "cpu",
            }
        ]

    @classmethod
    def search_space(cls, trial: Any, estimator: Any = None) -> dict[str, Any]:
        """The default space of :class:`skmm.model_selection.FusionSearchCV`:
        how deep each tower trains and its learning rate, LoRA or not (see
        :func:`skmm.model_selection.tuning_space`), the head's learning rate,
        the shared-space width and the hard-negative weight.

        Parameters
        ----------
        trial : optuna.trial.Trial
        estimator : TwoTowerRetriever, optional
            The estimator searched (its towers' depths bound ``unfreeze``).

        Returns
        -------
        dict
            Parameter -> suggested value.
        """
        from skmm.model_selection._space import tower_depths, tuning_space

        if estimator is None:
            depths = {"text": 6, "image": 19}
        else:
            encoders = {
                m: estimator._encoder_for(m)
                for m in (estimator.query, estimator.target)
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

    # ------------------------------------------------------------ helpers
    def _per_modality(self, value: Any, name: str, default: Any) -> dict:
        from skmm.finetune._training import per_modality

        roles = [self.query, self.target]
        return per_modality(value, name, default, roles, type(self).__name__)

    def _column_of(self, X: Any, modality: str) -> tuple[list, str, list]:
        """The raw cells of ``modality``'s column in ``X``."""
        name = (self.columns or {}).get(modality, modality)
        if hasattr(X, "iloc") and hasattr(X, "columns"):
            if name not in X.columns:
                raise ValueError(
                    f"{type(self).__name__}: X has no column {name!r} for the "
                    f"{modality!r} modality; its columns are "
                    f"{[str(c) for c in X.columns]}. Pass columns={{{modality!r}: "
                    "<column>}."
                )
            return list(X[name]), str(name), list(X.index)
        if hasattr(X, "iloc"):  # a Series: that modality's cells only
            return list(X), str(X.name if X.name is not None else name), list(X.index)
        if isinstance(X, dict):
            if name not in X:
                raise ValueError(
                    f"{type(self).__name__}: X has no key {name!r} for the "
                    f"{modality!r} modality; its keys are {sorted(map(str, X))}."
                )
            cells = list(X[name])
            return cells, str(name), list(range(len(cells)))
        if isinstance(X, (list, tuple)):  # one modality's cells
            return list(X), str(name), list(range(len(X)))
        raise TypeError(
            f"{type(self).__name__} takes a DataFrame of raw columns (texts, image "
            f"cells), a dict of columns, or one modality's cells as a Series or "
            f"list; got {type(X).__name__}."
        )

    def _encoder_for(self, modality: str) -> Any:
        enc = getattr(self, modality)
        return _default_encoder(modality) if enc is None else clone(enc)

    # ---------------------------------------------------------------- fit
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: Any, y: Any = None) -> TwoTowerRetriever:
        """Fine-tune the towers on paired rows.

        Parameters
        ----------
        X : DataFrame
            Raw columns: the query and the target modality's cells (see
            ``columns``).  Rows missing either are left out with a warning.
        y : array-like of shape (n_samples,), optional
            Group labels: rows of one group (several captions or art styles
            of one concept) are all positives of each other.  Without ``y``,
            rows sharing an identical text or image are grouped.

        Returns
        -------
        self
        """
        import torch

        from skmm.finetune._towers import make_tower
        from skmm.finetune._training import (
            FinetuneNet,
            InfoNCELoss,
            ValidationMRR,
            drop_banks,
            prepare_column,
        )
        from skmm.utils._device import resolve_device
        from skmm.utils._seeding import seed_from

        for attr in ("gallery_index_", "gallery_ids_", "gallery_modality_"):
            self.__dict__.pop(attr, None)
        if self.query == self.target:
            raise ValueError(
                f"query and target must be two different modalities, got "
                f"{self.query!r} for both."
            )
        if not (hasattr(X, "iloc") and hasattr(X, "columns")) and not isinstance(
            X, dict
        ):
            raise TypeError(
                f"{type(self).__name__}.fit takes a DataFrame (or a dict) of raw "
                f"columns; got {type(X).__name__}."
            )
        roles = {"query": self.query, "target": self.target}
        unfreeze = self._per_modality(self.unfreeze, "unfreeze", _DEFAULT_UNFREEZE)
        lora = self._per_modality(self.lora, "lora", {})
        tower_lr = self._per_modality(self.tower_lr, "tower_lr", 3e-5)
        seed = seed_from(self.random_state)
        device = resolve_device(self.device)
        owner = type(self).__name__
        t0 = time.perf_counter()

        cells, encoders = {}, {}
        n = None
        for role, m in roles.items():
            c, name, rows = self._column_of(X, m)
            if n is not None and len(c) != n:
                raise ValueError("The query and target columns differ in length.")
            n = len(c)
            enc = self._encoder_for(m)
            enc.fit(c)
            encoders[m] = enc
            cells[role] = (c, name, rows)
        prepared = {
            role: prepare_column(encoders[roles[role]], *cells[role]) for role in roles
        }
        complete = (prepared["query"].row_item >= 0) & (
            prepared["target"].row_item >= 0
        )
        if not complete.all():
            warnings.warn(
                f"{int((~complete).sum())} of {complete.size} rows miss (or could not "
                f"read) the {self.query!r} or the {self.target!r} cell and are left "
                "out of fit.",
                MissingModalityWarning,
                stacklevel=2,
            )
        rows_ok = np.flatnonzero(complete)
        if rows_ok.size < 2:
            raise ValueError(
                f"Found n_samples = {rows_ok.size} complete pair(s), but {owner} "
                "needs at least 2 rows holding both the query and the target."
            )
        groups = self._groups(y, prepared, rows_ok, n)
        train_rows, valid_rows = self._split(groups, seed)

        towers = {}
        for role, m in roles.items():
            towers[role] = make_tower(
                encoders[m],
                unfreeze[m],
                lora=lora[m],
                augment_views=self.augment_views if m == "image" else 0,
                augment_flip=self.augment_flip,
                # views are fixed per item (not per fit), so every fit, fold
                # and trial shares them; random_state picks views per epoch
                seed=0,
                owner=owner,
            )
        self.encoders_ = encoders
        self._unfreeze_spec = unfreeze
        self.unfreeze_ = {m: towers[r].n_trainable for r, m in roles.items()}
        self.depth_ = {m: towers[r].depth for r, m in roles.items()}
        self.embed_dim_ = int(self.embed_dim)
        self.n_pairs_ = int(rows_ok.size)

        banks = self._banks(towers, prepared)
        t_prefix = time.perf_counter() - t0

        module_cls = _network_cls()
        with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
            torch.manual_seed(seed)
            module = module_cls(
                towers,
                self.embed_dim,
                self.temperature,
                self.learn_temperature,
                self.precision,
                self.dropout,
            )
            module.banks = banks
            module.row_items = {r: prepared[r].row_item for r in roles}
            module.to(device)
            callbacks = []
            validation = None
            if valid_rows.size:

                def embed_valid(role: str) -> np.ndarray:
                    return np.concatenate(
                        [
                            module.embed_rows(role, valid_rows[s : s + 512])
                            .cpu()
                            .numpy()
                            for s in range(0, valid_rows.size, 512)
                        ]
                    )

                validation = ValidationMRR(
                    embed_valid,
                    ("query", "target"),
                    groups[valid_rows],
                    self.patience,
                )
                callbacks.append(("validation_mrr", validation))
            callbacks += list(self.callbacks or [])
            param_groups = [
                (f"suffixes.{role}.*", {"lr": float(tower_lr[m])})
                for role, m in roles.items()
            ]
            net = FinetuneNet(
                module=module,
                criterion=InfoNCELoss,
                criterion__hard_negatives=self.hard_negatives,
                optimizer=torch.optim.AdamW,
                optimizer__param_groups=param_groups,
                optimizer__weight_decay=self.weight_decay,
                lr=self.lr,
                max_epochs=self.max_epochs,
                batch_size=self.batch_size,
                accumulate=self.accumulate,
                iterator_train__shuffle=True,
                iterator_train__drop_last=train_rows.size > self.batch_size,
                train_split=None,
                callbacks=callbacks or None,
                device=str(device),
                verbose=self.verbose,
            )
            # set before training: per-epoch callbacks embed with the net
            self.net_ = net
            t1 = time.perf_counter()
            net.fit(train_rows.astype(np.int64), groups[train_rows])
        module.eval()
        self.temperature_ = float(1.0 / module.logit_scale().item())
        self.loss_curve_ = [float(v) for v in net.history[:, "train_loss"]]
        self.validation_curve_ = (
            [float(v) for v in net.history[:, "valid_mrr"]] if validation else []
        )
        self.best_epoch_ = (
            int(validation.best_epoch_) if validation else len(self.loss_curve_)
        )
        self.n_iter_ = len(net.history)
        self.fit_times_ = {
            "prefix": float(t_prefix),
            "train": float(time.perf_counter() - t1),
        }
        drop_banks(module)  # the training rows' prefixes: not kept
        return self

    def _groups(
        self, y: Any, prepared: dict, rows_ok: np.ndarray, n: int
    ) -> np.ndarray:
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

    def _split(self, groups: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
        rows = np.flatnonzero(groups >= 0)
        uniq = np.unique(groups[rows])
        n_valid = int(round(self.validation_fraction * uniq.size))
        if self.validation_fraction == 0 or n_valid < 2 or uniq.size - n_valid < 2:
            return rows, np.empty(0, dtype=np.int64)
        rng = np.random.default_rng(seed)
        held = set(rng.permutation(uniq)[:n_valid].tolist())
        is_valid = np.array([g in held for g in groups[rows]])
        return rows[~is_valid], rows[is_valid]

    def _banks(self, towers: dict, prepared: dict) -> dict:
        from tqdm.auto import tqdm

        from skmm.finetune._training import TowerBank

        banks = {}
        total = sum(len(prepared[r].items) * t.n_views for r, t in towers.items())
        with tqdm(
            total=total,
            desc=f"{type(self).__name__}: frozen prefix",
            unit="item",
            disable=not self.verbose,
            leave=False,
        ) as bar:
            for role, tower in towers.items():
                banks[role] = TowerBank(
                    tower,
                    prepared[role],
                    n_views=tower.n_views,
                    cache=self.cache_prefix,
                    progress=bar,
                )
        return banks

    # ------------------------------------------------------------ embedding
    def _module(self) -> Any:
        net = self.__dict__.get("net_")
        if net is None:
            net = self._restore()
        return net.module_

    def embed(self, X: Any, modality: str | None = None) -> np.ndarray:
        """L2-normalised shared-space vectors of one modality's cells.

        Parameters
        ----------
        X : DataFrame, dict, Series or list
            The table (that modality's column is read) or the cells.
        modality : str, optional
            ``query`` (default) or ``target`` modality.

        Returns
        -------
        ndarray of shape (n_samples, embed_dim), float32
            Missing (or, with the encoder's ``on_error="nan"``, unreadable)
            cells give NaN rows.
        """
        import torch

        from skmm.finetune._training import TowerBank, prepare_column

        check_is_fitted(self, "encoders_")
        modality = self.query if modality is None else modality
        if modality not in (self.query, self.target):
            raise ValueError(
                f"{type(self).__name__} was fitted on the modalities "
                f"{self.query!r} (query) and {self.target!r} (target); it cannot "
                f"embed modality={modality!r}."
            )
        role = "query" if modality == self.query else "target"
        module = self._module()
        tower = module.towers[role]
        cells, name, rows = self._column_of(X, modality)
        col = prepare_column(self.encoders_[modality], cells, name, rows)
        out = np.full((len(cells), self.embed_dim_), np.nan, dtype=np.float32)
        if not col.items:
            return out
        bank = TowerBank(tower, col, n_views=1, cache=self.cache_prefix)
        was = module.training
        module.eval()
        z = np.empty((len(col.items), self.embed_dim_), dtype=np.float32)
        try:
            with torch.no_grad():
                for start in range(0, len(col.items), 256):
                    idx = np.arange(start, min(start + 256, len(col.items)))
                    arrays = bank.get(idx, np.zeros(idx.size, dtype=np.int64))
                    z[idx] = module.embed_arrays(role, arrays).cpu().numpy()
        finally:
            module.train(was)
        ok = col.row_item >= 0
        out[ok] = z[col.row_item[ok]]  # the heads' outputs are unit vectors
        return out

    # -------------------------------------------------------------- pickle
    def __getstate__(self) -> dict:
        from skmm.finetune._training import save_delta

        state = dict(super().__getstate__())
        net = state.pop("net_", None)
        if net is not None:
            state["_tuned_delta"] = save_delta(net.module_)
        return state

    def _restore(self) -> Any:
        """Rebuild the towers from the base weights, then load the tuned delta."""
        from skmm.finetune._towers import make_tower
        from skmm.finetune._training import RestoredNet, load_delta, restore_device

        blob = self.__dict__.get("_tuned_delta")
        if blob is None:
            check_is_fitted(self, "net_")
        device = restore_device(self.device, type(self).__name__)
        roles = {"query": self.query, "target": self.target}
        lora = self._per_modality(self.lora, "lora", {})
        towers = {
            role: make_tower(
                self.encoders_[m],
                self._unfreeze_spec[m],
                lora=lora[m],
                augment_views=0,
                augment_flip=self.augment_flip,
                seed=0,
                owner=type(self).__name__,
            )
            for role, m in roles.items()
        }
        module = _network_cls()(
            towers,
            self.embed_dim_,
            self.temperature,
            self.learn_temperature,
            self.precision,
            self.dropout,
        )
        load_delta(module, blob)
        module.to(device).eval()
        net = RestoredNet(module, device)
        self.__dict__["net_"] = net
        return net

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        tags.non_deterministic = False
        return tags
