"""Trainable towers: a pretrained encoder cut into a frozen prefix and a
trainable suffix.

A tower is built from a *fitted* skmm encoder by :func:`make_tower`.  It

- says how deep the model is (``depth``: transformer layers, CNN blocks) and
  how many of its last blocks train (``n_trainable``);
- computes the frozen prefix of prepared items (``compute_prefix``): a
  text's token states after layer ``depth - n_trainable``, an image's feature
  map after block ``depth - n_trainable``, or, for a locked tower, the
  pooled embedding itself; these are kept per item in a
  :class:`~skmm.finetune.PrefixStore`, so only the suffix runs per step;
- owns the trainable suffix (``suffix``, an ``nn.Module`` that is a *copy*
  of the encoder's last blocks: the encoder's shared model never changes)
  and the ``collate`` that turns a list of prefixes into its input.

Encoders opt in by a ``_make_tower(unfreeze, *, lora, augment_views,
augment_flip, seed, owner)`` method returning a tower (``TextEncoder``,
``ImageEncoder``); any other encoder (a plugin's, TF-IDF,
colour histograms) can still be a *locked* tower: its embeddings are the
prefix and only the projection head above it trains.

This module holds the base, the locked tower and :func:`make_tower`; the
text and image towers are in ``_text_tower.py`` and ``_image_tower.py``.
"""

from __future__ import annotations

import hashlib
import numbers
from typing import Any

import numpy as np
import torch
from torch import nn

__all__ = ["BaseTower", "LockedTower", "make_tower", "resolve_unfreeze"]


def resolve_unfreeze(value: Any, depth: int, modality: str, owner: str) -> int:
    """Number of trainable blocks for ``unfreeze=value`` on a ``depth``-deep
    tower: ``0`` locks it, ``"all"`` trains every block; more than ``depth``
    is an error that names the depth."""
    if value == "all":
        return depth
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Integral)
        or int(value) < 0
    ):
        raise ValueError(
            f"{owner}: unfreeze for the {modality!r} tower must be a non-negative "
            f"int or 'all'; got {value!r}."
        )
    if int(value) > depth:
        raise ValueError(
            f"{owner}: unfreeze={int(value)} for the {modality!r} tower, but its "
            f"model has only {depth} trainable blocks (depth {depth}); use at "
            f"most {depth}, or 'all'."
        )
    return int(value)


def _digest(*parts: Any) -> str:
    import joblib

    return hashlib.blake2b(joblib.hash(parts).encode(), digest_size=16).hexdigest()


class BaseTower:
    """A pretrained encoder split at a cut point (see the module docstring).

    Subclasses set ``modality``, ``depth``, ``n_trainable``, ``out_dim``,
    ``n_views`` and ``suffix`` and implement ``compute_prefix`` and
    ``collate``.
    """

    modality: str = "generic"
    depth: int = 0
    n_trainable: int = 0
    out_dim: int = 0
    n_views: int = 1
    suffix: nn.Module

    def __init__(self, encoder: Any):
        self.encoder = encoder

    # identity of the prefix (the cache namespace)
    def _prefix_params(self) -> dict:
        return {}

    def prefix_namespace(self) -> str:
        from skmm.cache._fingerprint import encoder_fingerprint

        fingerprint, _ = encoder_fingerprint(self.encoder)
        return _digest(
            type(self).__name__,
            fingerprint,
            self.depth,
            self.n_trainable,
            self._prefix_params(),
        )

    def compute_prefix(self, items: list, view: int, keys: list[str]) -> list:
        raise NotImplementedError  # pragma: no cover

    def collate(self, arrays: list[np.ndarray], device: Any) -> tuple:
        """Default: stack equal-shaped prefixes."""
        return (torch.as_tensor(np.stack(arrays), device=device),)


class _Identity(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x


class LockedTower(BaseTower):
    """Any encoder as a frozen tower: its embeddings are the prefix.

    Used for encoders without a ``_make_tower`` hook, and NaN-free rows only
    (missing cells are masked before they reach a tower).
    """

    def __init__(self, encoder: Any):
        super().__init__(encoder)
        self.modality = getattr(encoder, "_modality", "generic")
        self.depth = 0
        self.n_trainable = 0
        self.out_dim = int(encoder.n_features_out_)
        self.suffix = _Identity()

    def compute_prefix(self, items: list, view: int, keys: list[str]) -> list:
        emb = np.asarray(self.encoder._encode_batch(items), dtype=np.float32)
        return list(emb)


# ---------------------------------------------------------------- text


def make_tower(
    encoder: Any,
    unfreeze: Any = 0,
    *,
    lora: int | None = None,
    augment_views: int = 0,
    augment_flip: bool = False,
    seed: int = 0,
    owner: str = "make_tower",
) -> BaseTower:
    """Build the tower of a fitted encoder.

    Parameters
    ----------
    encoder : fitted skmm encoder
        ``TextEncoder`` and ``ImageEncoder`` can be fine-tuned; any other
        encoder (or a plugin's without a ``_make_tower`` hook) is a locked
        tower.
    unfreeze : int or "all", default=0
        Trainable last blocks (transformer layers, CNN blocks); ``0`` locks
        the tower.
    lora : int, optional
        LoRA rank: adapt the unfrozen transformer layers with low-rank
        adapters (``peft``) instead of training their weights.
    augment_views, augment_flip : int, bool
        Image towers: augmented views per training image.
    seed : int
        Seed of the augmentations.

    Returns
    -------
    BaseTower
    """
    hook = getattr(encoder, "_make_tower", None)
    if hook is None:
        if unfreeze not in (0, None):
            raise ValueError(
                f"{owner}: {type(encoder).__name__} cannot be fine-tuned (it has no "
                "trainable layers skmm knows how to cut); use unfreeze=0 for its "
                "tower."
            )
        return LockedTower(encoder)
    return hook(
        unfreeze,
        lora=lora,
        augment_views=augment_views,
        augment_flip=augment_flip,
        seed=seed,
        owner=owner,
    )
