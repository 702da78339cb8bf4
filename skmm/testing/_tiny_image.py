"""A tiny randomly initialised ViT, saved like a real Hugging Face folder."""

from __future__ import annotations

from pathlib import Path

from skmm.testing._tiny import TINY_DOCS, new_folder, seeded_model
from skmm.utils._docs import fill_doc

__all__ = ["make_tiny_vision_model"]


@fill_doc(TINY_DOCS)
def make_tiny_vision_model(
    path: str | Path,
    *,
    image_size: int = 32,
    patch_size: int = 8,
    hidden_size: int = 32,
    num_layers: int = 2,
    seed: int = 0,
) -> Path:
    """Build a tiny ViT and its image processor into ``path``.

    The folder holds ``config.json``, ``model.safetensors`` and
    ``preprocessor_config.json``, so :class:`skmm.image.HFImageEncoder`
    loads it exactly as it loads a real model, without any download.

    Parameters
    ----------
    {path}
    image_size : int, default=32
        Input size of the model (the processor resizes to it).
    patch_size : int, default=8
        Patch size; ``(image_size / patch_size) ** 2`` patch tokens plus CLS.
    hidden_size : int, default=32
        Width of the model, hence of its embeddings.
    num_layers : int, default=2
        Transformer layers.
    {seed}

    {returns_folder}

    Examples
    --------
    >>> import tempfile
    >>> folder = make_tiny_vision_model(tempfile.mkdtemp(), hidden_size=16)
    >>> sorted(p.name for p in folder.iterdir())
    ['config.json', 'model.safetensors', 'preprocessor_config.json']

    :class:`~skmm.image.HFImageEncoder`'s example encodes images with it.
    """
    from transformers import ViTConfig, ViTImageProcessor, ViTModel

    path = new_folder(path)
    config = ViTConfig(
        image_size=image_size,
        patch_size=patch_size,
        hidden_size=hidden_size,
        num_hidden_layers=num_layers,
        num_attention_heads=2,
        intermediate_size=2 * hidden_size,
    )
    seeded_model(ViTModel, config, seed).save_pretrained(path)
    processor = ViTImageProcessor(
        size={"height": image_size, "width": image_size},
        image_mean=[0.5, 0.5, 0.5],
        image_std=[0.5, 0.5, 0.5],
    )
    processor.save_pretrained(path)
    return path
