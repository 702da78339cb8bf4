"""Hugging Face loading helpers."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

__all__ = ["quiet_hf_progress"]


@contextlib.contextmanager
def quiet_hf_progress(show: bool) -> Iterator[None]:
    """Hide transformers' own progress bars ("Loading weights") unless
    ``show``; their previous state is restored on exit."""
    from transformers.utils import logging as hf_logging

    was_enabled = hf_logging.is_progress_bar_enabled()
    if was_enabled and not show:
        hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if was_enabled and not show:
            hf_logging.enable_progress_bar()
