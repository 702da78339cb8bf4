"""The image tower: a CNN's last blocks over the feature map its frozen
blocks computed, with per-item seeded augmentation views."""

from __future__ import annotations

import copy
import hashlib
from typing import Any

import numpy as np
import torch
from torch import nn

from skmm.finetune._towers import BaseTower, _Identity

__all__ = ["ImageTower", "augment_image"]


class _ImageSuffix(nn.Module):
    """The last CNN blocks, then global pooling."""

    def __init__(self, blocks: list, pooling: str, normalize: bool):
        super().__init__()
        self.blocks = nn.Sequential(*blocks)
        self.pooling = pooling
        self.normalize = normalize

    def forward(self, fmap: torch.Tensor) -> torch.Tensor:
        x = self.blocks(fmap.contiguous(memory_format=torch.channels_last))
        out = x.mean(dim=(2, 3)) if self.pooling == "avg" else x.amax(dim=(2, 3))
        if self.normalize:
            out = nn.functional.normalize(out, p=2, dim=1)
        return out


def _item_seed(key: str, view: int, seed: int) -> int:
    h = hashlib.blake2b(f"{key}|{view}|{seed}".encode(), digest_size=8)
    return int.from_bytes(h.digest(), "little")


def augment_image(
    img: np.ndarray,
    rng: np.random.Generator,
    *,
    scale: tuple[float, float] = (0.6, 1.0),
    flip: bool = False,
) -> np.ndarray:
    """A random resized crop (area ``scale``, aspect 3/4..4/3) of an
    ``H x W x 3`` uint8 image, resized back to ``H x W``; mirrored with
    probability 0.5 when ``flip``."""
    from PIL import Image

    h, w = img.shape[:2]
    area = h * w
    for _ in range(10):
        target = area * rng.uniform(*scale)
        aspect = np.exp(rng.uniform(np.log(3 / 4), np.log(4 / 3)))
        cw = int(round(np.sqrt(target * aspect)))
        ch = int(round(np.sqrt(target / aspect)))
        if 0 < cw <= w and 0 < ch <= h:
            top = int(rng.integers(0, h - ch + 1))
            left = int(rng.integers(0, w - cw + 1))
            break
    else:  # centre crop fallback
        ch, cw = h, w
        top = left = 0
    crop = Image.fromarray(img[top : top + ch, left : left + cw])
    out = np.asarray(crop.resize((w, h), Image.BILINEAR), dtype=np.uint8)
    if flip and rng.random() < 0.5:
        out = out[:, ::-1]
    return np.ascontiguousarray(out)


class ImageTower(BaseTower):
    """An ImageNet CNN (``ImageEncoder``) cut after block
    ``depth - n_trainable``.

    Batch norms stay folded into the convolutions (their statistics frozen,
    as is usual when fine-tuning with small batches), so the suffix trains
    the convolutions' weights and biases.  ``augment_views`` extra views of
    each training image (random resized crops, optional flips) are computed
    through the prefix once and sampled per epoch; view 0 is the clean
    image.
    """

    modality = "image"

    def __init__(
        self,
        encoder: Any,
        n_trainable: int,
        *,
        augment_views: int = 0,
        augment_flip: bool = False,
        augment_scale: tuple[float, float] = (0.6, 1.0),
        seed: int = 0,
    ):
        super().__init__(encoder)
        if getattr(encoder, "layer", "penultimate") != "penultimate":
            raise ValueError(
                "Only an ImageEncoder with layer='penultimate' can be a tower."
            )
        loaded = encoder._get_model()
        self._loaded = loaded
        blocks = loaded.net.feature_blocks()
        self.depth = len(blocks)
        self.n_trainable = int(n_trainable)
        self.out_dim = int(encoder.n_features_out_)
        self.n_views = 1 + int(augment_views)
        self.augment_flip = bool(augment_flip)
        self.augment_scale = tuple(float(s) for s in augment_scale)
        self.seed = int(seed)
        cut = self.depth - self.n_trainable
        self._prefix_blocks = blocks[:cut]
        if self.n_trainable == 0:
            self.suffix = _Identity()
        else:
            self.suffix = _ImageSuffix(
                [copy.deepcopy(b) for b in blocks[cut:]],
                encoder.pooling,
                encoder.normalize,
            )
            for p in self.suffix.parameters():
                p.requires_grad_(True)
            self.suffix.train()  # a copy of an eval-mode model is in eval mode

    def _prefix_params(self) -> dict:
        # not the number of views: a view's content does not depend on it,
        # so every view count shares one namespace (keys carry the view)
        return {
            "flip": self.augment_flip,
            "scale": self.augment_scale,
            "seed": self.seed,
        }

    def compute_prefix(self, items: list, view: int, keys: list[str]) -> list:
        loaded = self._loaded
        if view > 0:
            items = [
                augment_image(
                    img,
                    np.random.default_rng(_item_seed(k, view, self.seed)),
                    scale=self.augment_scale,
                    flip=self.augment_flip,
                )
                for img, k in zip(items, keys)
            ]
        batch = torch.from_numpy(np.stack(items)).to(loaded.device)
        with torch.inference_mode():
            x = batch.permute(0, 3, 1, 2).float().div_(255.0)
            x = x.contiguous(memory_format=torch.channels_last)
            x = x.sub_(loaded.mean).div_(loaded.std)
            for block in self._prefix_blocks:
                x = block(x)
            if self.n_trainable == 0:
                enc = self.encoder
                x = x.mean(dim=(2, 3)) if enc.pooling == "avg" else x.amax(dim=(2, 3))
                if enc.normalize:
                    x = nn.functional.normalize(x, p=2, dim=1)
            out = x.float().contiguous().cpu().numpy()
        return list(out)
