"""What the tiny test-model builders share: their folder, their seeded
initialisation, quiet saving and their docstring entries."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

__all__: list[str] = []

# the entries every make_tiny_* docstring holds (see skmm.utils._docs)
TINY_DOCS = {
    "path": """\
path : str or Path
    Folder to create (parents included).""",
    "seed": """\
seed : int, default=0
    Seed of the random initialisation.""",
    "returns_folder": """\
Returns
-------
Path
    The folder.""",
}


def new_folder(path: str | Path) -> Path:
    """``path`` as a Path, created with its parents if need be."""
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    return path


def seeded_model(model_cls: Any, config: Any, seed: int) -> Any:
    """``model_cls(config)`` initialised from ``seed``, leaving the global
    torch RNG as it was."""
    import torch

    with torch.random.fork_rng():
        torch.manual_seed(seed)
        return model_cls(config)


@contextlib.contextmanager
def quiet_hf_progress() -> Iterator[None]:
    """Hide the Hugging Face progress bars inside the block (restored after)."""
    from transformers.utils import logging as hf_logging

    bars = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if bars:
            hf_logging.enable_progress_bar()
