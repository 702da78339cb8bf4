"""Missing modalities: NaN blocks -> presence mask, placeholders, dropout.

A modality is *absent* from a row when its whole block is NaN (what every
skmm encoder writes for a missing cell).  A NaN in only some columns of a
block (a missing value in a tabular block) is a missing *value*: it is
imputed with the column's training mean (zero after standardisation) and the
modality counts as present.  This module holds the one place where absence
is handled before a fusion module sees the blocks:

- :func:`presence_mask` (numpy, at validation time) checks the blocks and
  returns the ``(n_samples, n_modalities)`` mask;
- :class:`ModalityPlaceholder` (torch) fills absent blocks with zeros or a
  trained placeholder embedding;
- :func:`modality_dropout` hides whole modalities at random during training,
  never all the present ones of a row.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import torch
from torch import Tensor, nn

__all__ = ["ModalityPlaceholder", "modality_dropout", "presence_mask"]


def _rows(positions: np.ndarray, index: np.ndarray | None, limit: int = 5) -> str:
    labels = positions if index is None else np.asarray(index)[positions]
    shown = ", ".join(
        repr(x.item() if hasattr(x, "item") else x) for x in labels[:limit]
    )
    more = f" and {len(labels) - limit} more" if len(labels) > limit else ""
    return f"[{shown}]{more}"


def presence_mask(
    X: np.ndarray,
    blocks: Mapping[str, np.ndarray],
    *,
    index: np.ndarray | None = None,
    estimator: str = "the estimator",
) -> np.ndarray:
    """Which modalities each row has: a block that is all NaN is absent.

    A block with NaN in only some of its columns is present (its NaN values
    are imputed later).

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        The fused table (NaN marks a missing modality).
    blocks : dict
        Modality name -> column indices (from
        :func:`skmm.compose.resolve_modalities`).
    index : array-like, optional
        Row labels for error messages (a DataFrame's index).
    estimator : str
        Name used in error messages.

    Returns
    -------
    ndarray of bool, shape (n_samples, n_modalities)

    Raises
    ------
    ValueError
        When a row has no modality at all, naming the rows.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[1.0, 2.0, 3.0], [np.nan, np.nan, 4.0]])
    >>> presence_mask(X, {"a": np.array([0, 1]), "b": np.array([2])})
    array([[ True,  True],
           [False,  True]])
    """
    mask = np.empty((X.shape[0], len(blocks)), dtype=bool)
    for j, idx in enumerate(blocks.values()):
        mask[:, j] = ~np.isnan(X[:, idx]).all(axis=1)
    empty = np.flatnonzero(~mask.any(axis=1))
    if empty.size:
        raise ValueError(
            f"Rows {_rows(empty, index)} have no modality present (every block "
            f"is NaN); {estimator} needs at least one of {list(blocks)} per row."
        )
    return mask


class ModalityPlaceholder(nn.Module):
    """Fill the blocks of absent modalities.

    Parameters
    ----------
    dims : dict
        Modality name -> width.
    strategy : {"zero", "learned"}
        ``"zero"``: zeros (the training mean, as inputs are standardised);
        ``"learned"``: one trained vector per modality, initialised at zero
        (it learns only from rows where the modality is absent, naturally or
        through modality dropout).

    Examples
    --------
    >>> import torch
    >>> ph = ModalityPlaceholder({"a": 2}, "zero")
    >>> out = ph({"a": torch.ones(2, 2)}, torch.tensor([[True], [False]]))
    >>> out["a"].tolist()
    [[1.0, 1.0], [0.0, 0.0]]
    """

    def __init__(self, dims: Mapping[str, int], strategy: str = "learned") -> None:
        super().__init__()
        if strategy not in ("zero", "learned"):
            raise ValueError(f"strategy must be 'zero' or 'learned', got {strategy!r}")
        self.strategy = strategy
        self.modalities = list(dims)
        if strategy == "learned":
            self.values = nn.ParameterDict(
                {m: nn.Parameter(torch.zeros(int(d))) for m, d in dims.items()}
            )

    def forward(self, blocks: Mapping[str, Tensor], mask: Tensor) -> dict[str, Tensor]:
        out = {}
        for j, m in enumerate(self.modalities):
            x = blocks[m]
            present = mask[:, j : j + 1]
            if self.strategy == "learned":
                out[m] = torch.where(present, x, self.values[m].to(x.dtype))
            else:
                out[m] = torch.where(present, x, torch.zeros_like(x))
        return out


def modality_dropout(mask: Tensor, p: float) -> Tensor:
    """Hide each present modality with probability ``p``, keeping >= 1 per row.

    Rows where every present modality was drawn to be hidden keep one of
    them, chosen at random, so a row never loses all its inputs.

    Parameters
    ----------
    mask : bool tensor of shape (batch, n_modalities)
        Presence mask (at least one True per row).
    p : float
        Probability in ``[0, 1)`` of hiding a modality.

    Returns
    -------
    bool tensor, same shape

    Examples
    --------
    >>> import torch
    >>> _ = torch.manual_seed(0)
    >>> m = modality_dropout(torch.ones(1000, 2, dtype=torch.bool), 0.9)
    >>> bool(m.any(dim=1).all())
    True
    """
    if p <= 0:
        return mask
    keep = mask & (torch.rand(mask.shape, device=mask.device) >= p)
    empty = ~keep.any(dim=1)
    if bool(empty.any()):
        # one random present modality survives in rows that lost them all
        scores = torch.rand(mask.shape, device=mask.device).masked_fill(~mask, -1.0)
        rescue = torch.zeros_like(mask)
        rescue.scatter_(1, scores.argmax(dim=1, keepdim=True), True)
        keep = keep | (rescue & empty.unsqueeze(1))
    return keep
