"""FusionClassifier and FusionRegressor: fusion modules trained through skorch."""

from __future__ import annotations

import copy
import difflib
import inspect
import numbers
import warnings
from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from skorch.callbacks import EarlyStopping
from skorch.dataset import ValidSplit
from torch import nn

from skmm.compose._blocks import resolve_modalities
from skmm.fusion._base import fusion_knobs
from skmm.fusion._missing import presence_mask
from skmm.fusion._net import BlockDataset, FusionNet, FusionNetwork, TensorBatchIterator
from skmm.utils._device import resolve_device
from skmm.utils._seeding import seed_from
from skmm.utils._sklearn_compat import (
    Interval,
    StrOptions,
    _fit_context,
    _get_feature_names,
    check_is_fitted,
    validate_data,
)

__all__ = ["FusionClassifier", "FusionRegressor"]

_PREFIX = "fusion__"
_SINGLE_MODALITY = "x"


def _did_you_mean(name: str, candidates: list[str]) -> str:
    close = difflib.get_close_matches(name, candidates, n=1)
    return f" Did you mean {close[0]!r}?" if close else ""


def _knobs_of(obj: Any) -> dict[str, Any]:
    """Knobs of a fusion class, or of a factory function with its signature."""
    if isinstance(obj, type):
        return fusion_knobs(obj)
    out = {}
    for name, p in inspect.signature(obj).parameters.items():
        if name in ("dims", "hidden_dim", "n_outputs", "dropout"):
            continue
        if p.kind in (p.VAR_KEYWORD, p.VAR_POSITIONAL):
            continue
        out[name] = None if p.default is inspect.Parameter.empty else p.default
    return out


def _registered_knobs() -> set[str]:
    """Every knob of every registered fusion (for typo detection)."""
    from skmm.registry import fusions

    known: set[str] = set()
    for name in fusions.names():
        try:
            known |= set(_knobs_of(fusions.get(name)))
        except Exception:  # a broken plugin must not break set_params
            continue
    return known


def _check_sample_weight(sample_weight: Any, n_samples: int) -> np.ndarray:
    if sample_weight is None:
        return np.ones(n_samples, dtype=np.float64)
    sw = np.asarray(sample_weight, dtype=np.float64)
    if sw.ndim == 0:
        sw = np.full(n_samples, float(sw))
    if sw.shape != (n_samples,):
        raise ValueError(f"sample_weight.shape == {sw.shape}, expected ({n_samples},)!")
    if not np.isfinite(sw).all() or (sw < 0).any():
        raise ValueError("sample_weight must be finite and non-negative.")
    if sw.sum() <= 0:
        raise ValueError(
            "sample_weight values are all zero; at least one must be positive."
        )
    return sw


class _BaseFusionEstimator(BaseEstimator):
    """Shared fit / predict machinery of the fusion estimators.

    Subclasses set ``_criterion`` and implement ``_encode_target``.
    """

    _static_constraints: ClassVar[dict] = {
        "modalities": [Mapping, None],
        "hidden_dim": [Interval(numbers.Integral, 1, None, closed="left")],
        "dropout": [Interval(numbers.Real, 0, 1, closed="left")],
        "lr": [Interval(numbers.Real, 0, None, closed="neither")],
        "weight_decay": [Interval(numbers.Real, 0, None, closed="left")],
        "batch_size": [Interval(numbers.Integral, 1, None, closed="left")],
        "max_epochs": [Interval(numbers.Integral, 1, None, closed="left")],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(numbers.Real, 0, 1, closed="neither")],
        "n_iter_no_change": [Interval(numbers.Integral, 1, None, closed="left")],
        "missing": [StrOptions({"zero", "learned"})],
        "modality_dropout": [Interval(numbers.Real, 0, 1, closed="left")],
        "device": [str, torch.device],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "callbacks": [list, None],
        "encoders": [dict, None],
        "columns": [dict, None],
        "unfreeze": [
            Interval(numbers.Integral, 0, None, closed="left"),
            StrOptions({"all"}),
            dict,
        ],
        "tower_lr": [Interval(numbers.Real, 0, None, closed="neither"), dict],
        "lora": [Interval(numbers.Integral, 1, None, closed="left"), dict, None],
        "augment_views": [Interval(numbers.Integral, 0, None, closed="left")],
        "precision": [StrOptions({"auto", "bf16", "fp32"})],
    }

    def __init__(
        self,
        *,
        fusion: str | type = "concat",
        modalities: Mapping[str, Any] | None = None,
        hidden_dim: int = 64,
        dropout: float = 0.1,
        lr: float = 1e-3,
        weight_decay: float = 1e-4,
        batch_size: int = 64,
        max_epochs: int = 100,
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        n_iter_no_change: int = 10,
        missing: str = "learned",
        modality_dropout: float = 0.0,
        device: str = "auto",
        random_state: int | np.random.RandomState | None = None,
        verbose: int = 0,
        callbacks: list | None = None,
        encoders: dict | None = None,
        columns: dict | None = None,
        unfreeze: Any = 0,
        tower_lr: Any = 1e-4,
        lora: Any = None,
        augment_views: int = 0,
        precision: str = "auto",
        **fusion_params: Any,
    ) -> None:
        self.fusion = fusion
        self.modalities = modalities
        self.hidden_dim = hidden_dim
        self.dropout = dropout
        self.lr = lr
        self.weight_decay = weight_decay
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.missing = missing
        self.modality_dropout = modality_dropout
        self.device = device
        self.random_state = random_state
        self.verbose = verbose
        self.callbacks = callbacks
        self.encoders = encoders
        self.columns = columns
        self.unfreeze = unfreeze
        self.tower_lr = tower_lr
        self.lora = lora
        self.augment_views = augment_views
        self.precision = precision
        # kept private so that sklearn's check of init attributes holds; they
        # are parameters through get_params / set_params
        self._fusion_settings: dict[str, Any] = {}
        for key, value in fusion_params.items():
            if not key.startswith(_PREFIX):
                raise TypeError(
                    f"{type(self).__name__}.__init__() got an unexpected keyword "
                    f"argument {key!r}; a fusion strategy's settings are passed as "
                    f"'fusion__<knob>'." + _did_you_mean(key, self._get_param_names())
                )
            self._fusion_settings[key] = value

    # ------------------------------------------------------------ parameters
    @property
    def _parameter_constraints(self) -> dict:
        from skmm.registry import fusions

        return {
            "fusion": [StrOptions(set(fusions.names())), callable],
            **self._static_constraints,
        }

    def _fusion_params(self) -> dict[str, Any]:
        return dict(self._fusion_settings)

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """Get parameters, including the ``fusion__<knob>`` settings.

        Parameters
        ----------
        deep : bool, default=True
            Also return the parameters of nested estimators.

        Returns
        -------
        dict
        """
        params = super().get_params(deep=deep)
        params.update(self._fusion_params())
        return params

    def set_params(self, **params: Any) -> _BaseFusionEstimator:
        """Set parameters, including ``fusion__<knob>`` settings.

        A knob is checked against the knobs of every registered strategy
        (a typo raises with a suggestion); whether the chosen strategy takes
        it is checked at ``fit``.

        Parameters
        ----------
        **params : dict
            Estimator parameters.

        Returns
        -------
        self
        """
        valid = self._get_param_names()
        knobs = {k: params.pop(k) for k in list(params) if k.startswith(_PREFIX)}
        if knobs:
            known = _registered_knobs()
            if callable(params.get("fusion", self.fusion)):
                known |= set(_knobs_of(params.get("fusion", self.fusion)))
            for key in knobs:
                if key[len(_PREFIX) :] not in known:
                    raise ValueError(
                        f"Invalid parameter {key!r} for {type(self).__name__}: no "
                        f"registered fusion strategy has a knob "
                        f"{key[len(_PREFIX) :]!r}."
                        + _did_you_mean(key, [_PREFIX + k for k in sorted(known)])
                    )
        for key in params:
            if key not in valid:
                raise ValueError(
                    f"Invalid parameter {key!r} for estimator {type(self).__name__}. "
                    f"Valid parameters are: {valid!r} and 'fusion__<knob>'."
                    + _did_you_mean(key, valid)
                )
        super().set_params(**params)
        self._fusion_settings.update(knobs)
        return self

    def _resolve_fusion(self) -> tuple[Any, dict[str, Any], str]:
        """The fusion class, its knob values and a name for messages."""
        from skmm.registry import fusions

        if isinstance(self.fusion, str):
            cls = fusions.get(self.fusion)
            knobs = fusions.defaults(self.fusion)
            label = f"fusion={self.fusion!r}"
        else:
            cls, knobs = self.fusion, {}
            label = f"fusion={getattr(cls, '__name__', cls)!r}"
        allowed = _knobs_of(cls)
        others = None
        for key, value in self._fusion_params().items():
            knob = key[len(_PREFIX) :]
            if knob in allowed:
                knobs[knob] = value
                continue
            if others is None:
                others = _registered_knobs()
            if knob in others:
                # another strategy's knob: ignored, so one grid can span strategies
                continue
            raise ValueError(
                f"{key!r} is not a setting of {label}; its settings are "
                f"{[_PREFIX + k for k in allowed]}."
                + _did_you_mean(key, [_PREFIX + k for k in allowed])
            )
        return cls, knobs, label

    # ----------------------------------------------------------------- input
    def _find_blocks(self, X: np.ndarray) -> tuple[dict[str, np.ndarray], bool]:
        names = getattr(self, "feature_names_in_", None)
        if self.modalities is not None:
            return (
                resolve_modalities(
                    self.modalities, feature_names=names, n_features=X.shape[1]
                ),
                False,
            )
        if names is not None and any("__" in str(n) for n in names):
            return resolve_modalities(None, feature_names=names), True
        return {_SINGLE_MODALITY: np.arange(X.shape[1])}, False

    def _layout(self) -> str:
        return ", ".join(
            f"{m!r} ({len(i)} columns)" for m, i in self.modalities_.items()
        )

    def _check_layout(self, X: Any) -> None:
        """Name the modality when X's columns do not match the fitted blocks."""
        cls = type(self).__name__
        names = _get_feature_names(X)
        shape = getattr(X, "shape", None)
        if names is not None and self._blocks_from_names:
            try:
                got = resolve_modalities(None, feature_names=names)
            except ValueError:
                return  # sklearn's feature-name check reports it
            problems = []
            for m, idx in self.modalities_.items():
                if m not in got:
                    problems.append(f"modality {m!r} is missing")
                elif len(got[m]) != len(idx):
                    problems.append(
                        f"modality {m!r} has {len(got[m])} columns, but {cls} was "
                        f"fitted with {len(idx)}"
                    )
            extra = [m for m in got if m not in self.modalities_]
            if extra:
                problems.append(f"modality(ies) {extra} were not seen at fit")
            if problems:
                raise ValueError(
                    f"X does not match the modalities {cls} was fitted with "
                    f"({self._layout()}): " + "; ".join(problems) + "."
                )
        elif (
            names is None
            and shape is not None
            and len(shape) == 2
            and shape[1] != self.n_features_in_
        ):
            raise ValueError(
                f"X has {shape[1]} features, but {cls} is expecting "
                f"{self.n_features_in_} features as input (modalities: "
                f"{self._layout()})."
            )

    def _validate_X(self, X: Any) -> tuple[np.ndarray, np.ndarray]:
        """X as float32 and its presence mask (at predict time)."""
        check_is_fitted(self)
        index = getattr(X, "index", None)
        self._check_layout(X)
        X = validate_data(
            self,
            X,
            reset=False,
            dtype=[np.float32, np.float64],
            ensure_all_finite="allow-nan",
        )
        X = np.ascontiguousarray(X, dtype=np.float32)
        if not X.flags.writeable:  # torch wants writable memory
            X = X.copy()
        mask = presence_mask(
            X, self.modalities_, index=index, estimator=type(self).__name__
        )
        return X, mask

    # ------------------------------------------------------------------- fit
    def _encode_target(self, y: Any, sample_weight: np.ndarray) -> tuple[Any, int]:
        raise NotImplementedError  # pragma: no cover

    def _stratify(self, y: np.ndarray) -> bool:
        return False

    def _fit(self, X: Any, y: Any, sample_weight: Any = None) -> _BaseFusionEstimator:
        fusion_cls, knobs, label = self._resolve_fusion()
        index = getattr(X, "index", None)
        is_regressor = isinstance(self, RegressorMixin)
        tuned = None
        self.__dict__.pop("_tuned_delta", None)
        if self.encoders is not None:
            from skmm.fusion._tuned import prepare_tuned

            tuned = prepare_tuned(self, X)
            _, y = validate_data(
                self,
                np.zeros((len(tuned["features"]), 1)),
                y,
                multi_output=is_regressor,
                y_numeric=is_regressor,
            )
            self.n_features_in_ = len(tuned["names"])
            self.feature_names_in_ = np.asarray(tuned["names"], dtype=object)
            X = tuned["features"]
            self.modalities_, self._blocks_from_names = tuned["blocks"], False
        else:
            X, y = validate_data(
                self,
                X,
                y,
                dtype=[np.float32, np.float64],
                ensure_all_finite="allow-nan",
                multi_output=is_regressor,
                y_numeric=is_regressor,
            )
            self.modalities_, self._blocks_from_names = self._find_blocks(X)
        name = type(self).__name__
        # own, writable, row-major copy (a DataFrame's values are often
        # column-major, which makes every batch gather strided)
        X = np.array(X, dtype=np.float32, order="C")
        mask = presence_mask(X, self.modalities_, index=index, estimator=name)
        never = [m for j, m in enumerate(self.modalities_) if not mask[:, j].any()]
        if never:
            warnings.warn(
                f"Modality(ies) {never} are absent (NaN) in every training row; "
                f"{name} will only ever see their placeholder.",
                UserWarning,
                stacklevel=3,
            )
        sw = _check_sample_weight(sample_weight, X.shape[0])
        y_t, n_outputs = self._encode_target(y, sw)

        # column standardisation, ignoring absent blocks
        present = ~np.isnan(X)
        counts = present.sum(axis=0)
        X64 = np.where(present, X, 0.0).astype(np.float64)
        mean = X64.sum(axis=0) / np.maximum(counts, 1)
        var = (np.where(present, X64 - mean, 0.0) ** 2).sum(axis=0) / np.maximum(
            counts, 1
        )
        scale = np.sqrt(var)
        scale[~(scale > 1e-8)] = 1.0

        seed = seed_from(self.random_state)
        device = resolve_device(self.device)
        callbacks: list = []
        train_split = None
        if self.early_stopping:
            stratify = self._stratify(y_t)
            train_split = ValidSplit(
                self.validation_fraction, stratified=stratify, random_state=seed
            )
            callbacks.append(
                (
                    "early_stopping",
                    EarlyStopping(
                        monitor="valid_loss",
                        patience=self.n_iter_no_change,
                        load_best=True,
                    ),
                )
            )
        callbacks += list(self.callbacks or [])

        devices = [device.index or 0] if device.type == "cuda" else []
        module_kwargs = {
            "fusion_cls": fusion_cls,
            "blocks": {m: idx.tolist() for m, idx in self.modalities_.items()},
            "n_outputs": n_outputs,
            "hidden_dim": self.hidden_dim,
            "dropout": self.dropout,
            "missing": self.missing,
            "modality_dropout": self.modality_dropout,
            "mean": mean.astype(np.float32),
            "scale": scale.astype(np.float32),
            "fusion_params": knobs,
        }
        module_cls: Any = FusionNetwork
        extra: dict[str, Any] = {}
        if tuned is not None:
            from skmm.fusion._tuned import TunedFusionNetwork, _per_modality

            self._tuned_config = dict(module_kwargs)
            module_cls = TunedFusionNetwork
            extra = {
                "module__towers": tuned["towers"],
                "module__banks": tuned["banks"],
                "module__row_items": tuned["row_items"],
                "module__precision": self.precision,
            }
            tower_lr = _per_modality(self, self.tower_lr, "tower_lr", 1e-4)
            extra["optimizer__param_groups"] = [
                (f"suffixes.{m}.*", {"lr": float(tower_lr[m])}) for m in tuned["towers"]
            ]
            # the net's input is the row id; the towers compute the blocks
            X = np.arange(X.shape[0], dtype=np.float32)[:, None]
        with torch.random.fork_rng(devices=devices):
            torch.manual_seed(seed)
            net = FusionNet(
                module=module_cls,
                **{f"module__{k}": v for k, v in module_kwargs.items()},
                **extra,
                criterion=self._criterion,
                criterion__reduction="none",
                optimizer=torch.optim.AdamW,
                optimizer__weight_decay=self.weight_decay,
                lr=self.lr,
                max_epochs=self.max_epochs,
                batch_size=self.batch_size,
                iterator_train=TensorBatchIterator,
                iterator_train__shuffle=True,
                iterator_train__seed=seed,
                iterator_valid=TensorBatchIterator,
                iterator_valid__batch_size=max(self.batch_size, 1024),
                train_split=train_split,
                callbacks=callbacks or None,
                device=str(device),
                verbose=self.verbose,
            )
            sw = sw / sw.mean()
            # uniform weights take the unweighted path: None == ones exactly
            w = None if np.all(sw == 1.0) else torch.as_tensor(sw, dtype=torch.float32)
            dataset = BlockDataset(torch.from_numpy(X), y_t, w)
            try:
                net.fit(dataset, y_t.numpy() if self._stratify(y_t) else None)
            except ValueError as exc:
                if "least populated class" in str(exc):
                    raise ValueError(
                        f"{name} with early_stopping=True keeps a stratified "
                        f"validation_fraction={self.validation_fraction} of the "
                        f"training rows; {exc}"
                    ) from exc
                raise
        self.net_ = net
        self.n_iter_ = len(net.history)
        self.fusion_module_name_ = label.partition("=")[2].strip("'")
        if tuned is not None:
            from skmm.finetune._training import drop_banks

            drop_banks(net.module_)
        return self

    # ------------------------------------------------------------ predicting
    def _logits(self, X: Any) -> np.ndarray:
        if getattr(self, "encoders", None) is not None:
            return self._tuned_logits(X)
        X, _ = self._validate_X(X)
        Xt = torch.from_numpy(X)
        if torch.device(self.net_.device).type != "cpu":
            with torch.no_grad():
                return self.net_.forward(BlockDataset(Xt)).numpy()
        return self._float64_logits(self.net_.module_, Xt)

    def _float64_logits(self, module: nn.Module, Xt: torch.Tensor) -> np.ndarray:
        """On the CPU, a float64 copy of the trained float32 network predicts:
        float32 kernels round differently with the batch size and a row's
        position in it (~1e-7), so a row's prediction would depend on the
        other rows; in float64 those differences are ~1e-16.  The copy
        leaves the net untouched (thread-safe, nothing stored)."""
        module = copy.deepcopy(module).double().eval()
        iterator = TensorBatchIterator(
            BlockDataset(Xt), batch_size=max(self.batch_size, 1024)
        )
        with torch.no_grad():
            out = [module(xb.double()) for xb, _ in iterator]
        return torch.cat(out).numpy()

    def _tuned_logits(self, X: Any) -> np.ndarray:
        """Logits of a raw table through the fine-tuned towers."""
        from skmm.fusion._tuned import tuned_features, tuned_module

        check_is_fitted(self)
        feats = torch.from_numpy(tuned_features(self, X))
        inner = tuned_module(self).inner
        device = inner.mean.device
        if device.type != "cpu":
            was = inner.training
            inner.eval()
            try:
                with torch.no_grad():
                    return inner(feats.to(device)).float().cpu().numpy()
            finally:
                inner.train(was)
        return self._float64_logits(inner, feats)

    def __getstate__(self) -> dict:
        state = dict(super().__getstate__())
        if state.get("encoders") is not None and "net_" in state:
            from skmm.fusion._tuned import getstate

            # the tuned delta (safetensors), not the towers' base weights
            state = getstate(self, state)
        return state

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        return tags


_DOC_PARAMS = """
    fusion : str or callable, default="concat"
        A fusion strategy registered in :data:`skmm.registry.fusions`
        (built-in: ``"concat"``, ``"late"``, ``"attention"``, ``"gated"``,
        ``"tensor"``, ``"lowrank"``, ``"transformer"``) or a fusion module
        class (see :class:`skmm.fusion.BaseFusion`).
    modalities : dict, default=None
        Modality name -> width, slice, list of positions or list of column
        names (see :func:`skmm.compose.resolve_modalities`).  ``None`` finds
        the blocks from ``modality__feature`` column names (the output of
        :func:`skmm.compose.make_modality_encoder`); without such names the
        whole of X is one modality (a plain neural network).
    hidden_dim : int, default=64
        Width of the hidden representations.
    dropout : float, default=0.1
        Dropout probability inside the fusion module.
    lr : float, default=1e-3
        Learning rate of the AdamW optimizer.
    weight_decay : float, default=1e-4
        AdamW's decoupled weight decay.
    batch_size : int, default=64
        Rows per training batch (shuffled each epoch).
    max_epochs : int, default=100
        Training epochs (the maximum when ``early_stopping``).
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the rows passed to ``fit``
        (stratified for a classifier), stop when the validation loss has
        not improved for ``n_iter_no_change`` epochs, and keep the best
        epoch's weights.  Inside ``cross_validate`` or ``GridSearchCV`` the
        held-out rows come from the *training* fold, so the outer test fold
        stays unseen; the model then trains on
        ``1 - validation_fraction`` of each training fold.
    validation_fraction : float, default=0.1
        Fraction held out for early stopping.
    n_iter_no_change : int, default=10
        Patience of early stopping, in epochs.
    missing : {"learned", "zero"}, default="learned"
        What an absent modality (an all-NaN block) becomes: a trained
        placeholder vector per modality, or zeros (the training mean, as
        inputs are standardised).  Fusion modules also see the presence
        mask (attention, transformer, gated and late fusion ignore absent
        modalities).
    modality_dropout : float, default=0.0
        During training, hide each present modality of a row with this
        probability (never all of them), so the model learns to predict
        from any subset of modalities.
    device : {"auto", "cpu", "cuda", ...} or torch.device, default="auto"
        Where to train; ``"auto"`` picks CUDA when available.  A model
        trained on CUDA unpickles on a CPU-only machine (with a warning).
    random_state : int, RandomState or None, default=None
        Seeds the weight initialisation, dropout, modality dropout, the
        batch order and the validation split, inside
        ``torch.random.fork_rng`` (the global torch RNG is left as it was).
        An int gives identical models across fits and clones on CPU.
    verbose : int, default=0
        ``1`` prints skorch's per-epoch table.
    callbacks : list of skorch callbacks, default=None
        Extra skorch callbacks (e.g. for pruning in a search); used as
        given, not cloned.
    encoders : dict, default=None
        Modality -> encoder (``{"text": TextEncoder("minilm"), "image":
        ImageEncoder("mobilenet_v2")}``): ``X`` is then a DataFrame of *raw*
        columns, each encoder is a tower (see :mod:`skmm.finetune`) whose
        output is that modality's block, and its last ``unfreeze`` blocks
        train with the fusion module.  A missing cell is a masked modality,
        as an all-NaN block is.  ``None``: ``X`` holds feature blocks.
    columns : dict, default=None
        Modality -> column of ``X`` with ``encoders``; by default the column
        named as the modality.
    unfreeze : int, "all" or dict, default=0
        With ``encoders``: trainable last blocks per tower (transformer
        layers, CNN blocks); ``0`` keeps the encoders frozen (their prefix
        is then the embedding itself).
    tower_lr : float or dict, default=1e-4
        Learning rate of the trainable tower blocks, one or per modality.
    lora : int, dict or None, default=None
        LoRA rank of adapters on unfrozen transformer layers (``peft``, extra
        ``lora``) instead of training their weights.
    augment_views : int, default=0
        Augmented views (random resized crops) per training image, computed
        through the frozen prefix once and sampled per epoch.
    precision : {"auto", "bf16", "fp32"}, default="auto"
        bf16 autocast of the towers on CUDA (``"auto"``, ``"bf16"``).
    **fusion_params
        The strategy's own settings as ``fusion__<knob>`` (e.g.
        ``fusion__rank=8`` for ``"lowrank"``).  They are sklearn parameters
        (``get_params``, ``set_params``, ``clone``, grids).  A knob of
        another registered strategy is ignored, so one grid can span
        several strategies; an unknown knob is an error.
"""

_DOC_ATTRS = """
    modalities_ : dict
        Modality name -> column indices of its block.
    net_ : skorch.NeuralNet
        The trained net (``net_.module_.fusion`` is the fusion module,
        ``net_.history`` the training history).
    n_iter_ : int
        Epochs trained.
    fusion_module_name_ : str
        The fusion strategy used.
    encoders_ : dict
        With ``encoders``: the fitted encoder of each tower; ``unfreeze_``
        and ``depth_`` give each tower's trainable blocks and depth.
    n_features_in_ : int
        Number of columns seen at fit.
    feature_names_in_ : ndarray of str
        Column names seen at fit (when X has string column names).
"""


class FusionClassifier(ClassifierMixin, _BaseFusionEstimator):
    __doc__ = f"""Classifier fusing modality blocks with a PyTorch module.

    ``fit`` builds a skorch net around the fusion module chosen by
    ``fusion``: the blocks are found from the columns' ``modality__``
    prefixes (or ``modalities=``), standardised, and fused; a row whose
    block is all NaN lacks that modality.

    Parameters
    ----------{_DOC_PARAMS}
    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The class labels.{_DOC_ATTRS}
    Examples
    --------
    >>> import numpy as np
    >>> from skmm.fusion import FusionClassifier
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(60, 4))
    >>> y = (X[:, 0] * X[:, 2] > 0).astype(int)
    >>> clf = FusionClassifier(fusion="gated", modalities={{"a": 2, "b": 2}},
    ...                        max_epochs=5, random_state=0).fit(X, y)
    >>> clf.predict_proba(X[:2]).shape
    (2, 2)
    >>> X[0, 2:] = np.nan  # modality "b" missing in row 0
    >>> clf.predict(X[:2]).shape
    (2,)
    """

    _criterion = nn.CrossEntropyLoss

    def _encode_target(self, y: Any, sample_weight: np.ndarray) -> tuple[Any, int]:
        check_classification_targets(y)
        kind = type_of_target(y, input_name="y")
        if kind not in ("binary", "multiclass"):
            raise ValueError(
                f"{type(self).__name__} supports binary and multiclass targets; "
                f"got a {kind!r} target."
            )
        self.classes_, y_idx = np.unique(y, return_inverse=True)
        if len(self.classes_) < 2:
            raise ValueError(
                f"{type(self).__name__} needs samples of at least 2 classes; got "
                f"1 class ({self.classes_[0]!r})."
            )
        weighted = np.unique(y_idx[sample_weight > 0])
        if len(weighted) < 2:
            raise ValueError(
                f"{type(self).__name__} needs at least 2 classes with positive "
                f"sample_weight; only class {self.classes_[weighted[0]]!r} has."
            )
        return torch.as_tensor(y_idx, dtype=torch.long), len(self.classes_)

    def _stratify(self, y: Any) -> bool:
        return True

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> FusionClassifier:
        """Train the fusion network.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
            Modality blocks side by side; an all-NaN block marks a missing
            modality.
        y : array-like of shape (n_samples,)
            Class labels.
        sample_weight : array-like of shape (n_samples,), default=None
            Per-row weights of the loss.

        Returns
        -------
        self
        """
        return self._fit(X, y, sample_weight)

    def decision_function(self, X: Any) -> np.ndarray:
        """Logits: ``(n_samples,)`` (class 1 vs class 0) for two classes,
        else ``(n_samples, n_classes)``.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
            Rows with at least one modality present.

        Returns
        -------
        ndarray
        """
        logits = self._logits(X).astype(np.float64)
        if logits.shape[1] == 2:
            return logits[:, 1] - logits[:, 0]
        return logits

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities (softmax of the logits).

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
            Rows with at least one modality present.

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
        """
        logits = self._logits(X).astype(np.float64)
        logits -= logits.max(axis=1, keepdims=True)
        proba = np.exp(logits)
        return proba / proba.sum(axis=1, keepdims=True)

    def predict(self, X: Any) -> np.ndarray:
        """Predicted class labels.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
            Rows with at least one modality present.

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        logits = self._logits(X)
        return self.classes_[np.argmax(logits, axis=1)]


class FusionRegressor(RegressorMixin, _BaseFusionEstimator):
    __doc__ = f"""Regressor fusing modality blocks with a PyTorch module.

    Same design as :class:`FusionClassifier`, with a mean-squared-error
    loss on standardised targets; ``y`` may have several columns.

    Parameters
    ----------{_DOC_PARAMS}
    Attributes
    ----------{_DOC_ATTRS}
    Examples
    --------
    >>> import numpy as np
    >>> from skmm.fusion import FusionRegressor
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(60, 4))
    >>> Y = np.c_[X[:, 0] * X[:, 2], X[:, 1]]
    >>> reg = FusionRegressor(fusion="lowrank", fusion__rank=2,
    ...                       modalities={{"a": 2, "b": 2}}, max_epochs=5,
    ...                       random_state=0).fit(X, Y)
    >>> reg.predict(X[:3]).shape
    (3, 2)
    """

    _criterion = nn.MSELoss

    def _encode_target(self, y: Any, sample_weight: np.ndarray) -> tuple[Any, int]:
        y = np.asarray(y, dtype=np.float64)
        self._y_ndim = y.ndim
        y2 = y.reshape(len(y), -1)
        self._y_mean = y2.mean(axis=0)
        scale = y2.std(axis=0)
        scale[~(scale > 1e-12)] = 1.0
        self._y_scale = scale
        y_std = (y2 - self._y_mean) / self._y_scale
        return torch.as_tensor(y_std, dtype=torch.float32), y2.shape[1]

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> FusionRegressor:
        """Train the fusion network.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
            Modality blocks side by side; an all-NaN block marks a missing
            modality.
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            Targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Per-row weights of the loss.

        Returns
        -------
        self
        """
        return self._fit(X, y, sample_weight)

    def predict(self, X: Any) -> np.ndarray:
        """Predicted targets.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
            Rows with at least one modality present.

        Returns
        -------
        ndarray of shape (n_samples,) or (n_samples, n_targets)
            The shape of ``y`` at fit.
        """
        out = self._logits(X).astype(np.float64) * self._y_scale + self._y_mean
        return out.ravel() if self._y_ndim == 1 else out

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags
