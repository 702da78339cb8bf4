"""The text tower: a transformer's last layers (optionally with LoRA) over
the token states its frozen layers computed."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import torch
from torch import nn

from skmm.finetune._towers import BaseTower, _Identity

__all__ = ["TextTower"]


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
        if self.full:  # token ids, padded with the tokenizer's pad id
            pad = self._loaded.tokenizer.pad_token_id or 0
            padded = np.full((n, length), pad, dtype=np.int64)
        else:  # hidden states, padded with zeros
            dim = arrays[0].shape[1]
            padded = np.zeros((n, length, dim), dtype=np.float32)
        mask = np.zeros((n, length), dtype=np.int64)
        for i, a in enumerate(arrays):
            padded[i, : a.shape[0]] = a
            mask[i, : a.shape[0]] = 1
        return (
            torch.as_tensor(padded, device=device),
            torch.as_tensor(mask, device=device),
        )


# ---------------------------------------------------------------- image
