"""Hugging Face vision encoder (``AutoImageProcessor`` + ``AutoModel``)."""

from __future__ import annotations

from dataclasses import KW_ONLY, dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from skmm.base._docs import encoder_docs
from skmm.base._loaded import LoadedModel
from skmm.base._params import PretrainedEncoderParams
from skmm.base._pretrained import PretrainedMixin
from skmm.image._common import _ImageEncoderBase
from skmm.utils._device import resolve_device
from skmm.utils._docs import fill_doc
from skmm.utils._hf import load_hf_folder
from skmm.utils._params import estimator_init
from skmm.utils._sklearn_compat import StrOptions
from skmm.utils._weights import resolve_model_folder

__all__ = ["HFImageEncoder"]


@dataclass
class _HFVisionModel(LoadedModel):
    """The model, its processor and whether its pooler was trained."""

    processor: Any
    pooler_trained: bool


def _tensor(out: Any) -> Any:
    """``get_image_features`` returns a tensor (transformers 4) or an output
    whose ``pooler_output`` is the projected embedding (transformers 5)."""
    if hasattr(out, "shape"):
        return out
    return out.pooler_output


@fill_doc(encoder_docs("image"))
@estimator_init
class HFImageEncoder(PretrainedMixin, _ImageEncoderBase, PretrainedEncoderParams):
    """Embed images with a Hugging Face vision model from a local folder.

    Loads ``AutoImageProcessor`` and ``AutoModel`` (ViT, DeiT, DINOv2,
    CLIP, SigLIP, ConvNeXt, ...) with ``local_files_only=True``.  The
    processor does the resizing and normalisation the model was trained
    with; skmm reads the cells (paths, bytes, PIL images, arrays; transparency
    composited onto ``background``).

    Parameters
    ----------
    model : str or path
        A folder saved with ``save_pretrained`` holding the model and its
        ``preprocessor_config.json``.
    pooling : {"auto", "cls", "mean", "pooler"}, default="auto"
        ``"auto"``: the model's image embedding when it has one
        (``get_image_features`` of CLIP/SigLIP), else its
        ``pooler_output`` when the checkpoint holds trained pooler weights,
        else the first (CLS) token.  ``"cls"``: first output token;
        ``"mean"``: mean of all output tokens (of the spatial map for CNNs);
        ``"pooler"``: ``pooler_output``.  For dual-encoder models (CLIP)
        ``"cls"``/``"mean"``/``"pooler"`` read the vision tower, before the
        projection.
    normalize : bool, default=False
        L2-normalise each output row (usual for CLIP retrieval).
    background : (r, g, b) or str, default=(255, 255, 255)
        Colour under transparent pixels.
    batch_size : int, default=32
        Images per forward pass.
    {pretrained_encoder_params}

    Attributes
    ----------
    {model_path_}
    pooling_ : str
        The pooling in use (``"auto"`` resolved: ``"image_features"``,
        ``"pooler"`` or ``"cls"``).
    n_features_out_ : int
        Embedding width (found with one forward pass at fit).
    {input_attributes}

    Notes
    -----
    ``get_test_params()`` returns ``[]``: the encoder needs a model folder
    (tests build one with :func:`skmm.testing.make_tiny_vision_model`).

    Examples
    --------
    >>> import tempfile
    >>> from PIL import Image
    >>> from skmm.image import HFImageEncoder
    >>> from skmm.testing import make_tiny_vision_model
    >>> folder = make_tiny_vision_model(tempfile.mkdtemp())
    >>> enc = HFImageEncoder(folder, pooling="cls", verbose=0)
    >>> enc.fit_transform([Image.new("RGB", (30, 40)), None]).shape
    (2, 32)
    """

    _parameter_constraints: ClassVar[dict] = {
        **_ImageEncoderBase._parameter_constraints,
        "model": [str, Path],
        "pooling": [StrOptions({"auto", "cls", "mean", "pooler"})],
        "normalize": ["boolean"],
    }

    model: str | Path
    _: KW_ONLY
    pooling: str = "auto"
    normalize: bool = False
    background: Any = (255, 255, 255)

    _test_params: ClassVar[tuple[dict[str, Any], ...]] = ()  # see the notes

    # -- weights ----------------------------------------------------------
    def _model_key(self) -> tuple:
        return (self.model_path_, str(resolve_device(self.device)))

    def _load_model(self) -> _HFVisionModel:
        folder = load_hf_folder(
            self.model_path_,
            "AutoImageProcessor",
            kind="vision",
            device=self.device,
            show_progress=bool(self.verbose),
            loading_info=True,
        )
        missing = folder.info.get("missing_keys", ())
        pooler_trained = not any("pooler" in key for key in missing)
        return _HFVisionModel(
            folder.model, folder.device, folder.processor, pooler_trained
        )

    def _resolve_pooling(self, loaded: _HFVisionModel) -> str:
        if self.pooling != "auto":
            return self.pooling
        if hasattr(loaded.model, "get_image_features"):
            return "image_features"
        return "pooler" if loaded.pooler_trained else "cls"

    # -- encoder hooks -----------------------------------------------------
    def _fit_encoder(self, prepared: list | None) -> None:
        from PIL import Image

        self._check_background()
        folder = resolve_model_folder(
            self.model,
            "image",
            advice="HFImageEncoder loads a local Hugging Face folder saved with "
            "`save_pretrained` (config.json, weights, preprocessor_config.json); "
            "for the packaged ImageNet CNNs use "
            "skmm.image.ImageEncoder('mobilenet_v2').",
        )
        self.model_path_ = str(folder)
        loaded = self._get_model()
        self.pooling_ = self._resolve_pooling(loaded)
        # one forward pass on a blank image gives the width, whatever the model
        probe = self._forward([Image.new("RGB", (64, 64), (127, 127, 127))], loaded)
        self.n_features_out_ = int(probe.shape[1])

    def _prepare(self, item: Any) -> Any:
        return self._load(item)

    def _encode_batch(self, prepared: list) -> np.ndarray:
        return self._forward(prepared, self._get_model())

    def _forward(self, images: list, loaded: _HFVisionModel) -> np.ndarray:
        import torch

        inputs = loaded.processor(images=images, return_tensors="pt")
        pixel_values = inputs["pixel_values"].to(loaded.device)
        dtype = next(loaded.model.parameters()).dtype
        pixel_values = pixel_values.to(dtype)
        model = loaded.model
        pooling = self.pooling_
        with torch.inference_mode():
            if pooling == "image_features":
                emb = _tensor(model.get_image_features(pixel_values=pixel_values))
            else:
                # dual encoders (CLIP): read the vision tower itself
                tower = getattr(model, "vision_model", model)
                out = tower(pixel_values=pixel_values)
                if pooling == "pooler":
                    emb = getattr(out, "pooler_output", None)
                    if emb is None:
                        raise ValueError(
                            f"pooling='pooler' but {type(tower).__name__} returns "
                            "no pooler_output; use pooling='cls' or 'mean'."
                        )
                    emb = emb.flatten(1)  # CNN poolers keep (n, c, 1, 1)
                else:
                    states = out.last_hidden_state
                    if states.ndim == 4:  # CNN feature map (n, c, h, w)
                        states = states.flatten(2).transpose(1, 2)
                    emb = states[:, 0] if pooling == "cls" else states.mean(dim=1)
            if self.normalize:
                emb = torch.nn.functional.normalize(emb.float(), p=2, dim=1)
        return emb.float().cpu().numpy()
