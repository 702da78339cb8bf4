"""skmm: scikit-learn-native multimodal learning and cross-modal retrieval.

``import skmm`` is cheap: torch, transformers and optuna are imported only
when a submodule that needs them is used.  Public objects live in the
submodules, one per concern:

- :mod:`skmm.text`, :mod:`skmm.image`, :mod:`skmm.audio`: per-modality encoders;
- :mod:`skmm.compose`: :func:`~skmm.compose.make_modality_encoder` and block
  splitting;
- :mod:`skmm.registry`: plugin registries;
- :mod:`skmm.datasets`: real data loaders and synthetic makers.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0.dev0"

_SUBMODULES = (
    "audio",
    "base",
    "cache",
    "compose",
    "datasets",
    "exceptions",
    "fusion",
    "image",
    "metrics",
    "registry",
    "report",
    "retrieval",
    "text",
    "utils",
)

__all__ = ["__version__", *_SUBMODULES]


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        return importlib.import_module(f"skmm.{name}")
    raise AttributeError(f"module 'skmm' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
