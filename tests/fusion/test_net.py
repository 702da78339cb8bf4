"""The skorch glue: batches, the network wrapper, the weighted loss."""

from __future__ import annotations

import numpy as np
import torch

from skmm.fusion import ConcatFusion
from skmm.fusion._net import BlockDataset, FusionNetwork, TensorBatchIterator


def _dataset(n=10):
    X = torch.arange(n * 2, dtype=torch.float32).view(n, 2)
    return BlockDataset(X, torch.arange(n))


def test_batches_cover_the_data_once_per_epoch_in_a_seeded_order():
    ds = _dataset()
    it = TensorBatchIterator(ds, batch_size=4, shuffle=True, seed=0)
    assert len(it) == 3
    epoch1 = torch.cat([y for _, (y, _) in it])
    epoch2 = torch.cat([y for _, (y, _) in it])
    assert sorted(epoch1.tolist()) == list(range(10))
    assert not torch.equal(epoch1, epoch2), "a fresh order each epoch"
    again = TensorBatchIterator(ds, batch_size=4, shuffle=True, seed=0)
    assert torch.equal(torch.cat([y for _, (y, _) in again]), epoch1)
    plain = TensorBatchIterator(ds, batch_size=4)
    assert torch.cat([y for _, (y, _) in plain]).tolist() == list(range(10))


def test_batches_of_a_subset():
    sub = torch.utils.data.Subset(_dataset(), np.array([7, 1, 3]))
    it = TensorBatchIterator(sub, batch_size=2)
    assert torch.cat([y for _, (y, _) in it]).tolist() == [7, 1, 3]
    X, (y, w) = next(iter(it))
    assert X.shape == (2, 2) and w is None
    weighted = BlockDataset(torch.zeros(3, 2), torch.arange(3), torch.ones(3) * 2)
    assert weighted[torch.tensor([0, 2])][1][1].tolist() == [2.0, 2.0]
    assert BlockDataset(torch.zeros(3, 2))[1][1] is None


def test_network_splits_standardises_and_masks():
    net = FusionNetwork(
        fusion_cls=ConcatFusion,
        blocks={"a": [0, 1], "b": [2]},
        n_outputs=2,
        hidden_dim=4,
        dropout=0.0,
        missing="zero",
        modality_dropout=0.0,
        mean=np.array([1.0, 1.0, 0.0]),
        scale=np.array([2.0, 2.0, 1.0]),
    )
    X = torch.tensor([[3.0, np.nan, 5.0], [np.nan, np.nan, 1.0]])
    blocks, mask = net.split(X)
    assert blocks["a"].tolist() == [[1.0, 0.0], [0.0, 0.0]]
    assert mask.tolist() == [[True, True], [False, True]]
    assert net(X).shape == (2, 2)
