"""FusionClassifier and FusionRegressor: fusion modules trained through skorch.

Each adds its target (class labels or standardised targets) and its
predict methods to the shared machinery of :mod:`skmm.fusion._fitting`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from sklearn.base import ClassifierMixin, RegressorMixin
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from torch import nn

from skmm.fusion._fitting import _BaseFusionEstimator
from skmm.utils._docs import fill_doc

__all__ = ["FusionClassifier", "FusionRegressor"]

# the docstring entries both estimators share (see skmm.utils._docs)
_FUSION_DOCS = {
    "fusion_params": """\
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
    several strategies; an unknown knob is an error.""",
    "fusion_attrs": """\
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
    Column names seen at fit (when X has string column names).""",
    "predict_params": """\
Parameters
----------
X : DataFrame or array-like of shape (n_samples, n_features)
    Rows with at least one modality present.""",
}


@fill_doc(_FUSION_DOCS)
class FusionClassifier(ClassifierMixin, _BaseFusionEstimator):
    """Classifier fusing modality blocks with a PyTorch module.

    ``fit`` builds a skorch net around the fusion module chosen by
    ``fusion``: the blocks are found from the columns' ``modality__``
    prefixes (or ``modalities=``), standardised, and fused; a row whose
    block is all NaN lacks that modality.

    Parameters
    ----------
    {fusion_params}

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The class labels.
    {fusion_attrs}

    Examples
    --------
    >>> import numpy as np
    >>> from skmm.fusion import FusionClassifier
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(60, 4))
    >>> y = (X[:, 0] * X[:, 2] > 0).astype(int)
    >>> clf = FusionClassifier(fusion="gated", modalities={"a": 2, "b": 2},
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

    def decision_function(self, X: Any) -> np.ndarray:
        """Logits: ``(n_samples,)`` (class 1 vs class 0) for two classes,
        else ``(n_samples, n_classes)``.

        {predict_params}

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

        {predict_params}

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

        {predict_params}

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        logits = self._logits(X)
        return self.classes_[np.argmax(logits, axis=1)]


@fill_doc(_FUSION_DOCS)
class FusionRegressor(RegressorMixin, _BaseFusionEstimator):
    """Regressor fusing modality blocks with a PyTorch module.

    Same design as :class:`FusionClassifier`, with a mean-squared-error
    loss on standardised targets; ``y`` may have several columns.

    Parameters
    ----------
    {fusion_params}

    Attributes
    ----------
    {fusion_attrs}

    Examples
    --------
    >>> import numpy as np
    >>> from skmm.fusion import FusionRegressor
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(60, 4))
    >>> Y = np.c_[X[:, 0] * X[:, 2], X[:, 1]]
    >>> reg = FusionRegressor(fusion="lowrank", fusion__rank=2,
    ...                       modalities={"a": 2, "b": 2}, max_epochs=5,
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

    def predict(self, X: Any) -> np.ndarray:
        """Predicted targets.

        {predict_params}

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
