"""Hugging Face loading helpers."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

__all__ = ["quiet_hf_progress"]


@contextlib.contextmanager
def quiet_hf_progress(verbose: int) -> Iterator[None]:
    """Hide transformers' "Loading weights" bars unless ``verbose`` > 1."""
    if verbose and verbose > 1:
        yield
        return
    from transformers.utils import logging as hf_logging

    was_enabled = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if was_enabled:
            hf_logging.enable_progress_bar()
