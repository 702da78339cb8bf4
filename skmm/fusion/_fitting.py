"""The fitting machinery FusionClassifier and FusionRegressor share.

:class:`_BaseFusionEstimator` holds the constructor and its parameter
constraints, the input layout (finding the modality blocks, naming a
modality whose columns do not match at predict time), training the skorch
net around the fusion module (standardisation, early stopping, sample
weights, seeding) and predicting its logits (a float64 copy on the CPU),
pickling and tags.  The subclasses in :mod:`skmm.fusion._estimators` add
the target encoding and the predict methods; the ``fusion__<knob>``
parameters are in :mod:`skmm.fusion._knobs`.
"""

from __future__ import annotations

import copy
import numbers
import warnings
from collections.abc import Mapping
from typing import Any, ClassVar, TypeVar

import numpy as np
import torch
from sklearn.base import BaseEstimator, RegressorMixin
from skorch.callbacks import EarlyStopping
from skorch.dataset import ValidSplit
from torch import nn

from skmm.compose._blocks import resolve_modalities
from skmm.fusion._knobs import _FusionKnobsMixin
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

__all__: list[str] = []

_SINGLE_MODALITY = "x"

_E = TypeVar("_E", bound="_BaseFusionEstimator")


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


def _column_stats(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Column means and scales for standardisation, ignoring absent (NaN)
    values; a constant column gets scale 1."""
    present = ~np.isnan(X)
    counts = present.sum(axis=0)
    X64 = np.where(present, X, 0.0).astype(np.float64)
    mean = X64.sum(axis=0) / np.maximum(counts, 1)
    var = (np.where(present, X64 - mean, 0.0) ** 2).sum(axis=0) / np.maximum(counts, 1)
    scale = np.sqrt(var)
    scale[~(scale > 1e-8)] = 1.0
    return mean, scale


class _BaseFusionEstimator(_FusionKnobsMixin, BaseEstimator):
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
        self._fusion_settings = self._collect_knobs(fusion_params)

    # ------------------------------------------------------------ parameters
    @property
    def _parameter_constraints(self) -> dict:
        from skmm.registry import fusions

        return {
            "fusion": [StrOptions(set(fusions.names())), callable],
            **self._static_constraints,
        }

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

    def _validate_training_data(self, X: Any, y: Any) -> tuple[Any, Any, Any]:
        """X (or the towers' features), y and the tuned set-up (or None);
        sets the fitted layout (``modalities_``, ``n_features_in_``, ...)."""
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
        return X, y, tuned

    def _training_split(self, seed: int, y_t: torch.Tensor) -> tuple[Any, list]:
        """skorch's ``train_split`` and the callbacks (early stopping first)."""
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
        return train_split, callbacks + list(self.callbacks or [])

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self: _E, X: Any, y: Any, sample_weight: Any = None) -> _E:
        """Train the fusion network.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
            Modality blocks side by side; an all-NaN block marks a missing
            modality.
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            Class labels (:class:`~skmm.fusion.FusionClassifier`) or targets,
            one or several columns (:class:`~skmm.fusion.FusionRegressor`).
        sample_weight : array-like of shape (n_samples,), default=None
            Per-row weights of the loss.

        Returns
        -------
        self
        """
        fusion_cls, knobs, label = self._resolve_fusion()
        index = getattr(X, "index", None)
        X, y, tuned = self._validate_training_data(X, y)
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
                stacklevel=2,  # sklearn's _fit_context wrapper, as before
            )
        sw = _check_sample_weight(sample_weight, X.shape[0])
        y_t, n_outputs = self._encode_target(y, sw)

        mean, scale = _column_stats(X)
        seed = seed_from(self.random_state)
        device = resolve_device(self.device)
        train_split, callbacks = self._training_split(seed, y_t)

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
