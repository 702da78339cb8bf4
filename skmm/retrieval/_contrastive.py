"""ContrastiveRetriever: two projection towers trained with symmetric InfoNCE."""

from __future__ import annotations

import numbers
from typing import Any, ClassVar

import numpy as np

from skmm.retrieval._base import (
    TRAINING_CONSTRAINTS,
    BaseRetriever,
    StandardizedBlocks,
    skorch_params,
)
from skmm.retrieval._docs import RETRIEVER_DOCS
from skmm.utils._device import resolve_device
from skmm.utils._docs import fill_doc
from skmm.utils._params import estimator_init
from skmm.utils._seeding import seed_from
from skmm.utils._sklearn_compat import Interval

__all__ = ["ContrastiveRetriever"]


@fill_doc(RETRIEVER_DOCS)
@estimator_init
class ContrastiveRetriever(StandardizedBlocks, BaseRetriever):
    """Two projection towers trained with symmetric InfoNCE (CLIP's loss).

    Each modality block is standardised and mapped by its own tower (linear,
    or a one-hidden-layer MLP) into a shared ``embed_dim`` space.  The towers
    and a learnable temperature are trained through a skorch
    :class:`~skorch.NeuralNet` on the symmetric InfoNCE loss with in-batch
    negatives: in each batch, row ``i``'s query must pick row ``i``'s
    target among the batch's targets and the reverse.  With ``y`` (group
    labels, see :meth:`fit`), the rows of one group are all positives of
    each other (never in-batch negatives).

    Parameters
    ----------
    {block_params}
    embed_dim : int, default=64
        Dimension of the shared space.
    hidden_dim : int, optional
        Hidden width of MLP towers; linear towers when None.
    dropout : float, default=0.0
        Dropout in MLP towers.
    temperature : float, default=0.07
        Initial softmax temperature (CLIP's).
    learn_temperature : bool, default=True
        Learn the temperature (as a log logit scale clamped to ``[0,
        log 100]``, like CLIP) or keep it fixed.
    max_epochs : int, default=50
        Passes over the training pairs.
    batch_size : int, default=128
        Pairs per batch, i.e. ``batch_size - 1`` in-batch negatives per
        query.  The last incomplete batch of an epoch is dropped when the
        data holds more than one batch.
    lr : float, default=1e-3
        AdamW learning rate.
    weight_decay : float, default=1e-4
        AdamW weight decay.
    random_state : int, RandomState or None, default=None
        Seeds the towers' initialisation and the batch order, inside
        ``torch.random.fork_rng`` (the global torch RNG is left as it was).
    device : str, default="auto"
        Training and embedding device (CUDA when available).
    verbose : int, default=0
        skorch's per-epoch log when > 0.
    {search_index_param}
    callbacks : list of skorch callbacks, default=None
        Extra skorch callbacks (e.g. :class:`skmm.model_selection.EpochPruning`
        in a search); used as given, not cloned.

    Attributes
    ----------
    {fitted_attrs}
    {scaling_attrs}
    net_ : skorch.NeuralNet
        The trained net (``net_.module_`` holds the towers).
    temperature_ : float
        The final temperature.
    loss_curve_ : list of float
        Training loss per epoch.
    {gallery_attr}

    Examples
    --------
    >>> from skmm.datasets import make_paired_modalities
    >>> from skmm.retrieval import ContrastiveRetriever
    >>> data = make_paired_modalities(200, latent_dim=4, random_state=0).data
    >>> r = ContrastiveRetriever(embed_dim=8, max_epochs=15, batch_size=150,
    ...                          lr=5e-2, random_state=0, device="cpu")
    >>> r = r.fit(data[:150])
    >>> r.embed(data[150:], modality="image").shape
    (50, 8)
    >>> r.score(data[150:], metric="recall@1") > 0.8
    True
    """

    _parameter_constraints: ClassVar[dict] = {
        **BaseRetriever._parameter_constraints,
        **TRAINING_CONSTRAINTS,
        "hidden_dim": [Interval(numbers.Integral, 1, None, closed="left"), None],
    }

    query: str = "text"
    target: str = "image"
    modalities: dict | None = None
    embed_dim: int = 64
    hidden_dim: int | None = None
    dropout: float = 0.0
    temperature: float = 0.07
    learn_temperature: bool = True
    max_epochs: int = 50
    batch_size: int = 128
    lr: float = 1e-3
    weight_decay: float = 1e-4
    random_state: Any = None
    device: Any = "auto"
    verbose: int = 0
    search_index: Any = "exact"
    callbacks: list | None = None

    @classmethod
    def search_space(cls, trial: Any) -> dict[str, Any]:
        """The default space of :class:`skmm.model_selection.FusionSearchCV`.

        Parameters
        ----------
        trial : optuna.trial.Trial

        Returns
        -------
        dict
            Parameter -> suggested value.
        """
        hidden = trial.suggest_categorical("hidden_dim", [0, 256, 512])
        return {
            "embed_dim": trial.suggest_categorical("embed_dim", [32, 64, 128, 256]),
            "hidden_dim": hidden or None,
            "dropout": trial.suggest_float("dropout", 0.0, 0.5),
            "lr": trial.suggest_float("lr", 1e-4, 1e-2, log=True),
            "weight_decay": trial.suggest_float("weight_decay", 1e-6, 1e-2, log=True),
            "temperature": trial.suggest_float("temperature", 0.02, 0.2, log=True),
            "batch_size": trial.suggest_categorical("batch_size", [64, 128, 256]),
        }

    @classmethod
    def get_test_params(cls) -> list[dict]:
        """Cheap parameter sets for conformance tests."""
        return [
            {"embed_dim": 4, "max_epochs": 2, "random_state": 0, "device": "cpu"},
            {
                "embed_dim": 4,
                "hidden_dim": 8,
                "max_epochs": 2,
                "learn_temperature": False,
                "random_state": 0,
                "device": "cpu",
            },
        ]

    def _fit_pairs(self, Xq: np.ndarray, Xt: np.ndarray, y: Any) -> None:
        import torch
        from skorch import NeuralNet

        from skmm.retrieval._towers import SymmetricInfoNCELoss, TwoTowerModule

        # set before training: per-epoch callbacks may embed with the net
        self.embed_dim_ = int(self.embed_dim)
        Zq, Zt = self._fit_standardize(Xq, Xt, ddof=0)
        blocks = {"query": Zq.astype(np.float32), "target": Zt.astype(np.float32)}
        n = Xq.shape[0]
        groups = np.arange(n, dtype=np.int64) if y is None else y
        device = resolve_device(self.device)
        seed = seed_from(self.random_state)
        fork_devices = [device] if device.type == "cuda" else []
        with torch.random.fork_rng(devices=fork_devices):
            torch.manual_seed(seed)
            net = NeuralNet(
                module=TwoTowerModule,
                module__query_dim=Xq.shape[1],
                module__target_dim=Xt.shape[1],
                module__embed_dim=self.embed_dim,
                module__hidden_dim=self.hidden_dim,
                module__dropout=self.dropout,
                module__temperature=self.temperature,
                module__learn_temperature=self.learn_temperature,
                criterion=SymmetricInfoNCELoss,
                **skorch_params(self, n, list(self.callbacks or []), device),
            )
            net.fit(blocks, groups)
        net.module_.eval()
        self.net_ = net
        self.temperature_ = float(1.0 / net.module_.logit_scale().item())
        self.loss_curve_ = [float(v) for v in net.history[:, "train_loss"]]

    def _project(self, block: np.ndarray, modality: str) -> np.ndarray:
        import torch

        role = "query" if modality == self.query else "target"
        Z = self._standardize(block, modality).astype(np.float32)
        module = self.net_.module_
        module.eval()
        device = next(module.parameters()).device
        out = []
        with torch.inference_mode():
            for start in range(0, Z.shape[0], 4096):
                x = torch.as_tensor(Z[start : start + 4096], device=device)
                out.append(module.encode(x, role).cpu().numpy())
        return np.concatenate(out)
