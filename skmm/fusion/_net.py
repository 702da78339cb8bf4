"""skorch glue: the network around a fusion module, its data and its net.

- :class:`FusionNetwork` is the ``nn.Module`` skorch trains.  It receives the
  fused table as *one* float tensor (no SliceDict) and holds the block index
  spec, so it splits the columns itself: standardise, find absent
  modalities (NaN blocks), apply modality dropout when training, fill the
  absent blocks, and call the fusion module with the blocks and the mask.
- :class:`BlockDataset` and :class:`TensorBatchIterator` replace skorch's
  per-row ``Dataset``/``DataLoader`` collation by whole-tensor indexing, one
  gather per batch (the training data is small and already in memory).
- :class:`FusionNet` is a ``skorch.NeuralNet`` whose loss takes per-sample
  weights.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np
import torch
from skorch import NeuralNet
from skorch.callbacks import EpochTimer, PassthroughScoring, PrintLog
from torch import Tensor, nn

from skmm.fusion._missing import ModalityPlaceholder, modality_dropout

__all__ = ["BlockDataset", "FusionNet", "FusionNetwork", "TensorBatchIterator"]


class FusionNetwork(nn.Module):
    """Split one input tensor into modality blocks and fuse them.

    Parameters
    ----------
    fusion_cls : type
        The fusion module class (see :class:`skmm.fusion.BaseFusion`).
    blocks : dict
        Modality name -> list of column indices of the input tensor.
    n_outputs : int
        Output width.
    hidden_dim, dropout : int, float
        Passed to the fusion module.
    missing : {"zero", "learned"}
        Placeholder for absent modalities.
    modality_dropout : float
        Probability of hiding each present modality of a training row.
    mean, scale : array-like of shape (n_features,)
        Standardisation of the input columns (learned at fit).
    fusion_params : dict, optional
        The strategy's knobs.
    """

    def __init__(
        self,
        *,
        fusion_cls: type,
        blocks: Mapping[str, Sequence[int]],
        n_outputs: int,
        hidden_dim: int,
        dropout: float,
        missing: str,
        modality_dropout: float,
        mean: Any,
        scale: Any,
        fusion_params: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__()
        self.modalities = list(blocks)
        self.modality_dropout = float(modality_dropout)
        for m, idx in blocks.items():
            self.register_buffer(f"idx_{m}", torch.as_tensor(np.asarray(idx)).long())
        self.register_buffer("mean", torch.as_tensor(np.asarray(mean, np.float32)))
        self.register_buffer("scale", torch.as_tensor(np.asarray(scale, np.float32)))
        dims = {m: len(idx) for m, idx in blocks.items()}
        self.placeholder = ModalityPlaceholder(dims, missing)
        self.fusion = fusion_cls(
            dims,
            hidden_dim=hidden_dim,
            n_outputs=n_outputs,
            dropout=dropout,
            **dict(fusion_params or {}),
        )

    def split(self, X: Tensor) -> tuple[dict[str, Tensor], Tensor]:
        """Standardised blocks (NaN -> 0) and the presence mask."""
        X = (X - self.mean) / self.scale
        blocks, present = {}, []
        for m in self.modalities:
            x = X.index_select(1, getattr(self, f"idx_{m}"))
            nan = torch.isnan(x)
            present.append(~nan.all(dim=1))
            blocks[m] = x.masked_fill(nan, 0.0)
        return blocks, torch.stack(present, dim=1)

    def forward(self, X: Tensor) -> Tensor:
        blocks, mask = self.split(X)
        if self.training and self.modality_dropout > 0:
            mask = modality_dropout(mask, self.modality_dropout)
        blocks = self.placeholder(blocks, mask)
        return self.fusion(blocks, mask)


class BlockDataset(torch.utils.data.Dataset):
    """Tensors ``X`` (float), optional ``y`` and sample weights ``w``.

    Indexing with an int or an index tensor returns ``(X[i], (y[i], w[i]))``
    (``w[i]`` is None without weights; ``(X[i], None)`` without ``y``).
    """

    def __init__(self, X: Tensor, y: Tensor | None = None, w: Tensor | None = None):
        self.X, self.y, self.w = X, y, w

    def __len__(self) -> int:
        return len(self.X)

    def __getitem__(self, i: Any) -> tuple[Tensor, Any]:
        if self.y is None:
            return self.X[i], None
        return self.X[i], (self.y[i], None if self.w is None else self.w[i])


class TensorBatchIterator:
    """A ``DataLoader`` stand-in over a :class:`BlockDataset` (or a Subset).

    skorch builds it once per ``fit`` and iterates it once per epoch; each
    iteration draws a fresh order from a generator seeded with ``seed`` when
    ``shuffle`` (the net stores only the int, so it pickles on any device).
    """

    def __init__(
        self,
        dataset: Any,
        batch_size: int,
        shuffle: bool = False,
        seed: int | None = None,
    ) -> None:
        indices = None
        while isinstance(dataset, torch.utils.data.Subset):
            sub = torch.as_tensor(np.asarray(dataset.indices)).long()
            indices = sub if indices is None else sub[indices]
            dataset = dataset.dataset
        self.dataset = dataset
        self.indices = indices
        self.batch_size = int(batch_size)
        self.shuffle = shuffle
        self.generator = torch.Generator()
        if seed is None:
            self.generator.seed()
        else:
            self.generator.manual_seed(int(seed))

    def __len__(self) -> int:
        n = len(self.dataset) if self.indices is None else len(self.indices)
        return (n + self.batch_size - 1) // self.batch_size

    def __iter__(self) -> Iterator[tuple[Tensor, Any]]:
        n = len(self.dataset) if self.indices is None else len(self.indices)
        if self.shuffle:
            order = torch.randperm(n, generator=self.generator)
            if self.indices is not None:
                order = self.indices[order]
        elif self.indices is not None:
            order = self.indices
        else:
            order = None
        for start in range(0, n, self.batch_size):
            if order is None:
                sel: Any = slice(start, start + self.batch_size)
            else:
                sel = order[start : start + self.batch_size]
            yield self.dataset[sel]


class FusionNet(NeuralNet):
    """A skorch ``NeuralNet`` whose criterion is weighted per sample.

    The criterion must use ``reduction="none"``; batches carry ``(y, w)``
    with weights normalised to mean 1 over the training set, so the batch
    loss is ``mean(w * loss)`` (``mean(loss)`` when ``w`` is None).  The
    epoch table (``PrintLog``) is only built when ``verbose`` (formatting it
    costs more than a small epoch).
    """

    @property
    def _default_callbacks(self) -> list:
        callbacks = [
            ("epoch_timer", EpochTimer()),
            ("train_loss", PassthroughScoring(name="train_loss", on_train=True)),
            ("valid_loss", PassthroughScoring(name="valid_loss")),
        ]
        if self.verbose:
            callbacks.append(("print_log", PrintLog()))
        return callbacks

    def _set_training(self, training: bool = True) -> None:
        # skorch calls this before every batch; walking every submodule each
        # time is a measurable share of a small network's step
        for name in self._modules + self._criteria:
            module = getattr(self, name + "_")
            if isinstance(module, nn.Module) and module.training != training:
                module.train(training)

    def get_loss(
        self, y_pred: Tensor, y_true: Any, X: Any = None, training: bool = False
    ) -> Tensor:
        y, w = y_true
        loss = self.criterion_(y_pred, y.to(self.device))
        if w is None:  # no (or uniform) sample weights
            return loss.mean()
        if loss.dim() > 1:  # multi-output regression: mean over targets
            loss = loss.mean(dim=tuple(range(1, loss.dim())))
        return (w.to(self.device) * loss).mean()
