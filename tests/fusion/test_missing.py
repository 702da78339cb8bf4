"""Presence masks, placeholders and modality dropout."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from skmm.fusion import ModalityPlaceholder, modality_dropout, presence_mask

BLOCKS = {"a": np.array([0, 1]), "b": np.array([2])}


def test_presence_mask_reads_all_nan_blocks():
    X = np.array([[1.0, np.nan, 3.0], [np.nan, np.nan, 4.0], [1.0, 2.0, np.nan]])
    mask = presence_mask(X, BLOCKS)
    # a partly-NaN block is present (its NaN values are imputed)
    np.testing.assert_array_equal(mask, [[True, True], [False, True], [True, False]])


def test_rows_with_nothing_present_are_named():
    X = np.full((8, 3), np.nan)
    X[0] = 1.0
    with pytest.raises(ValueError, match=r"Rows \[1, 2, 3, 4, 5\] and 2 more"):
        presence_mask(X, BLOCKS)
    with pytest.raises(ValueError, match=r"Rows \['y'\]"):
        presence_mask(X[:2], BLOCKS, index=np.array(["x", "y"]))


@pytest.mark.parametrize("strategy", ["zero", "learned"])
def test_placeholder(strategy):
    ph = ModalityPlaceholder({"a": 2, "b": 1}, strategy)
    blocks = {"a": torch.ones(3, 2), "b": torch.ones(3, 1)}
    mask = torch.tensor([[True, False], [False, True], [True, True]])
    if strategy == "learned":
        with torch.no_grad():
            ph.values["a"].fill_(5.0)
    out = ph(blocks, mask)
    fill = 5.0 if strategy == "learned" else 0.0
    assert out["a"].tolist() == [[1.0, 1.0], [fill, fill], [1.0, 1.0]]
    assert out["b"].tolist() == [[0.0], [1.0], [1.0]]
    with pytest.raises(ValueError, match="strategy"):
        ModalityPlaceholder({"a": 1}, "mean")


def test_modality_dropout_never_empties_a_row():
    torch.manual_seed(0)
    mask = torch.ones(4000, 3, dtype=torch.bool)
    mask[:1000, 0] = False
    out = modality_dropout(mask, 0.5)
    assert out.any(dim=1).all()
    assert not (out & ~mask).any(), "dropout must not add modalities"
    rate = 1 - out[1000:].float().mean().item()
    assert 0.3 < rate < 0.5  # 0.5 less the rescued rows
    assert modality_dropout(mask, 0.0) is mask
    single = torch.tensor([[True, False]] * 50)
    assert torch.equal(modality_dropout(single, 0.9), single)
