"""TwoTowerRetriever: pretrained encoders fine-tuned end to end as two
towers with symmetric InfoNCE.

This module holds the estimator: its parameters, the raw columns it reads,
fit's steps and embed.  The network it trains, the training loop, its
search space and the pickle round trip (the tuned delta) are in
``_two_tower_training.py``.
"""

from __future__ import annotations

import numbers
import time
import warnings
from typing import Any, ClassVar

import numpy as np
from sklearn.base import clone

from skmm.retrieval._base import TRAINING_CONSTRAINTS, BaseRetriever
from skmm.retrieval._docs import RETRIEVER_DOCS
from skmm.retrieval._two_tower_training import (
    build_towers,
    embed_items,
    prefix_banks,
    restore_network,
    row_groups,
    train_network,
    tuned_state,
    two_tower_space,
    validation_split,
)
from skmm.retrieval._validation import MissingModalityWarning, raw_column
from skmm.utils._docs import fill_doc
from skmm.utils._params import estimator_init
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


@fill_doc(RETRIEVER_DOCS)
@estimator_init
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
    {search_index_param}
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
    {gallery_attr}

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
        **TRAINING_CONSTRAINTS,
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
        "tower_lr": [Interval(numbers.Real, 0, None, closed="neither"), dict],
        "hard_negatives": [Interval(numbers.Real, 0, None, closed="left")],
        "accumulate": [Interval(numbers.Integral, 1, None, closed="left")],
        "validation_fraction": [Interval(numbers.Real, 0, 1, closed="left")],
        "patience": [Interval(numbers.Integral, 0, None, closed="left")],
        "augment_views": [Interval(numbers.Integral, 0, None, closed="left")],
        "augment_flip": ["boolean"],
        "cache_prefix": ["boolean"],
        "precision": [StrOptions({"auto", "bf16", "fp32"})],
        "search_index": BaseRetriever._parameter_constraints["search_index"],
    }

    text: Any = None
    image: Any = None
    query: str = "text"
    target: str = "image"
    columns: dict | None = None
    unfreeze: Any = None
    lora: Any = None
    embed_dim: int = 256
    dropout: float = 0.2
    lr: float = 3e-4
    tower_lr: Any = 3e-5
    weight_decay: float = 0.01
    temperature: float = 0.07
    learn_temperature: bool = True
    hard_negatives: float = 0.0
    max_epochs: int = 20
    batch_size: int = 128
    accumulate: int = 1
    validation_fraction: float = 0.1
    patience: int = 4
    augment_views: int = 2
    augment_flip: bool = False
    cache_prefix: bool = True
    precision: str = "auto"
    device: Any = "auto"
    random_state: Any = None
    verbose: int = 0
    search_index: Any = "exact"
    callbacks: list | None = None

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
        return two_tower_space(trial, estimator)

    # ------------------------------------------------------------ helpers
    def _per_modality(self, value: Any, name: str, default: Any) -> dict:
        from skmm.finetune._training import per_modality

        roles = [self.query, self.target]
        return per_modality(value, name, default, roles, type(self).__name__)

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
        from skmm.finetune._training import prepare_column
        from skmm.utils._device import resolve_device
        from skmm.utils._seeding import seed_from

        self._start_fit()
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
        t0 = time.perf_counter()

        cells, encoders = {}, {}
        n = None
        for role, m in roles.items():
            c, name, rows = raw_column(X, m, self.columns, type(self).__name__)
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
                f"Found n_samples = {rows_ok.size} complete pair(s), but "
                f"{type(self).__name__} needs at least 2 rows holding both the "
                "query and the target."
            )
        groups = self._groups(y, prepared, rows_ok, n)
        rows = validation_split(groups, self.validation_fraction, seed)

        towers = build_towers(self, encoders, unfreeze, lora, self.augment_views)
        self.encoders_ = encoders
        self._unfreeze_spec = unfreeze
        self.unfreeze_ = {m: towers[r].n_trainable for r, m in roles.items()}
        self.depth_ = {m: towers[r].depth for r, m in roles.items()}
        self.embed_dim_ = int(self.embed_dim)
        self.n_pairs_ = int(rows_ok.size)

        banks = prefix_banks(self, towers, prepared)
        self.fit_times_ = {"prefix": float(time.perf_counter() - t0)}
        row_items = {r: prepared[r].row_item for r in roles}
        train_network(
            self, towers, banks, row_items, groups, rows, tower_lr, seed, device
        )
        return self

    def _groups(
        self, y: Any, prepared: dict, rows_ok: np.ndarray, n: int
    ) -> np.ndarray:
        """Integer group codes per row (-1 outside ``rows_ok``)."""
        return row_groups(y, prepared, rows_ok, n)

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
        from skmm.finetune._training import prepare_column

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
        cells, name, rows = raw_column(X, modality, self.columns, type(self).__name__)
        col = prepare_column(self.encoders_[modality], cells, name, rows)
        out = np.full((len(cells), self.embed_dim_), np.nan, dtype=np.float32)
        if not col.items:
            return out
        z = embed_items(module, role, col, dim=self.embed_dim_, cache=self.cache_prefix)
        ok = col.row_item >= 0
        out[ok] = z[col.row_item[ok]]  # the heads' outputs are unit vectors
        return out

    # -------------------------------------------------------------- pickle
    def __getstate__(self) -> dict:
        return tuned_state(dict(super().__getstate__()))

    def _restore(self) -> Any:
        """Rebuild the towers from the base weights, then load the tuned delta."""
        return restore_network(self)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        tags.non_deterministic = False
        return tags
