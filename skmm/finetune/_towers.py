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
"""

from __future__ import annotations

import copy
import hashlib
import numbers
from typing import Any

import numpy as np
import torch
from torch import nn

__all__ = [
    "BaseTower",
    "ImageTower",
    "LockedTower",
    "TextTower",
    "make_tower",
    "resolve_unfreeze",
]


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
def _find_layers(model: nn.Module) -> nn.ModuleList:
    """The transformer's list of layers (BERT, RoBERTa, DistilBERT, XLM-R...)."""
    for path in ("encoder.layer", "encoder.layers", "transformer.layer", "layers"):
        obj: Any = model
        for part in path.split("."):
            obj = getattr(obj, part, None)
            if obj is None:
                break
        if isinstance(obj, nn.ModuleList):
            return obj
    n = getattr(getattr(model, "config", None), "num_hidden_layers", None)
    for module in model.modules():
        if isinstance(module, nn.ModuleList) and len(module) == n:
            return module
    raise ValueError(
        f"Cannot find the layer list of {type(model).__name__}; only the "
        "locked tower (unfreeze=0) is available for it."
    )


def _attention_mask(config: Any, hidden: torch.Tensor, mask: torch.Tensor) -> Any:
    """The attention mask the model's layers expect, for padded ``hidden``."""
    try:
        from transformers.masking_utils import create_bidirectional_mask
    except ImportError:  # transformers < 4.56: the additive 4-D mask
        ext = mask[:, None, None, :].to(hidden.dtype)
        return (1.0 - ext) * torch.finfo(hidden.dtype).min
    return create_bidirectional_mask(
        config=config, inputs_embeds=hidden, attention_mask=mask
    )


def _pool(states: torch.Tensor, mask: torch.Tensor, pooling: str) -> torch.Tensor:
    m = mask.unsqueeze(-1).to(states.dtype)
    if pooling == "mean":
        return (states * m).sum(1) / m.sum(1).clamp(min=1e-9)
    if pooling == "cls":
        return states[:, 0]
    return states.masked_fill(m == 0, float("-inf")).max(1).values


class _TextSuffix(nn.Module):
    """The last transformer layers, then the encoder's pooling."""

    def __init__(self, layers: list, config: Any, pooling: str, normalize: bool):
        super().__init__()
        self.layers = nn.ModuleList(layers)
        self.config = config
        self.pooling = pooling
        self.normalize = normalize

    def forward(self, hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        ext = _attention_mask(self.config, hidden, mask)
        for layer in self.layers:
            out = layer(hidden, ext)
            hidden = out[0] if isinstance(out, tuple) else out
        emb = _pool(hidden, mask, self.pooling)
        if self.normalize:
            emb = nn.functional.normalize(emb, p=2, dim=1)
        return emb


class _TextFull(nn.Module):
    """The whole transformer (``unfreeze="all"``): token ids in."""

    def __init__(self, model: nn.Module, pooling: str, normalize: bool):
        super().__init__()
        self.model = model
        self.pooling = pooling
        self.normalize = normalize

    def forward(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        states = self.model(input_ids=ids, attention_mask=mask).last_hidden_state
        emb = _pool(states, mask, self.pooling)
        if self.normalize:
            emb = nn.functional.normalize(emb, p=2, dim=1)
        return emb


def _apply_lora(module: nn.Module, rank: int, owner: str) -> nn.Module:
    from skmm.utils._imports import import_optional

    peft = import_optional("peft", extra="lora")
    LoraConfig, inject_adapter_in_model = peft.LoraConfig, peft.inject_adapter_in_model

    targets = sorted(
        {
            n.rsplit(".", 1)[-1]
            for n, m in module.named_modules()
            if isinstance(m, nn.Linear)
        }
    )
    if not targets:
        raise ValueError(f"{owner}: the tower has no linear layer to adapt with LoRA.")
    config = LoraConfig(
        r=int(rank), lora_alpha=2 * int(rank), lora_dropout=0.0, target_modules=targets
    )
    module = inject_adapter_in_model(config, module)
    for name, param in module.named_parameters():
        param.requires_grad_("lora_" in name)
    return module


class TextTower(BaseTower):
    """A Hugging Face transformer (``TextEncoder``) cut after layer
    ``depth - n_trainable``.

    ``n_trainable == depth`` (``unfreeze="all"``) also trains the
    embeddings: the prefix is then the token ids.
    """

    modality = "text"

    def __init__(
        self,
        encoder: Any,
        n_trainable: int,
        lora: int | None = None,
        full: bool = False,
    ):
        super().__init__(encoder)
        if getattr(encoder, "quantize", None):
            raise ValueError(
                "A TextEncoder with quantize='int8' cannot be fine-tuned; use "
                "quantize=None for a fine-tuned tower."
            )
        loaded = encoder._get_model()
        self._loaded = loaded
        model = loaded.model
        layers = _find_layers(model)
        self.depth = len(layers)
        self.n_trainable = int(n_trainable)
        self.full = bool(full) and self.n_trainable == self.depth
        self.lora = lora
        self.out_dim = int(model.config.hidden_size)
        pooling, normalize = encoder.pooling, encoder.normalize
        if self.n_trainable == 0:
            self.suffix = _Identity()
        elif self.full:
            self.suffix = _TextFull(copy.deepcopy(model), pooling, normalize)
        else:
            cut = self.depth - self.n_trainable
            self.suffix = _TextSuffix(
                [copy.deepcopy(layer) for layer in list(layers)[cut:]],
                model.config,
                pooling,
                normalize,
            )
        for p in self.suffix.parameters():
            p.requires_grad_(True)
        self.suffix.train()  # a copy of an eval-mode model is in eval mode
        if lora and self.n_trainable:
            self.suffix = _apply_lora(self.suffix, lora, "TextTower")

    def _prefix_params(self) -> dict:
        return {"full": self.full, "max_length": int(self.encoder.max_length_)}

    def compute_prefix(self, items: list, view: int, keys: list[str]) -> list:
        if self.n_trainable == 0:  # the pooled embedding (tokenised there)
            return list(self.encoder._encode_batch(list(items)))
        loaded = self._loaded
        tok = loaded.tokenizer(
            list(items),
            padding=True,
            truncation=True,
            max_length=int(self.encoder.max_length_),
            return_tensors="pt",
        )
        lengths = tok["attention_mask"].sum(1).tolist()
        if self.full:
            ids = tok["input_ids"].numpy()
            return [ids[i, :n].astype(np.int64) for i, n in enumerate(lengths)]
        batch = tok.to(loaded.device)
        with torch.inference_mode():
            out = loaded.model(**batch, output_hidden_states=True)
            states = out.hidden_states[self.depth - self.n_trainable]
            states = states.float().cpu().numpy()
        return [states[i, :n] for i, n in enumerate(lengths)]

    def collate(self, arrays: list[np.ndarray], device: Any) -> tuple:
        if self.n_trainable == 0:
            return (torch.as_tensor(np.stack(arrays), device=device),)
        n = len(arrays)
        length = max(a.shape[0] for a in arrays)
        mask = np.zeros((n, length), dtype=np.int64)
        if self.full:
            pad = self._loaded.tokenizer.pad_token_id or 0
            ids = np.full((n, length), pad, dtype=np.int64)
            for i, a in enumerate(arrays):
                ids[i, : a.shape[0]] = a
                mask[i, : a.shape[0]] = 1
            return (
                torch.as_tensor(ids, device=device),
                torch.as_tensor(mask, device=device),
            )
        dim = arrays[0].shape[1]
        hidden = np.zeros((n, length, dim), dtype=np.float32)
        for i, a in enumerate(arrays):
            hidden[i, : a.shape[0]] = a
            mask[i, : a.shape[0]] = 1
        return (
            torch.as_tensor(hidden, device=device),
            torch.as_tensor(mask, device=device),
        )


# ---------------------------------------------------------------- image
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
