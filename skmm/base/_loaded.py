"""What the shared model cache holds for a pretrained encoder."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["LoadedModel"]


@dataclass
class LoadedModel:
    """A loaded network and the device it runs on.

    Each pretrained encoder's ``_load_model`` returns one (see
    :class:`~skmm.base.PretrainedMixin`); an encoder subclasses it with what
    else its forward pass needs: a tokenizer, a processor, the input
    normalisation.

    Examples
    --------
    >>> LoadedModel(model="net", device="cpu")
    LoadedModel(model='net', device='cpu')
    """

    model: Any
    device: Any
