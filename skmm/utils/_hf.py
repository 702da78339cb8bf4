"""Hugging Face loading: a model folder's processor and model, quietly."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any, NamedTuple

from skmm.exceptions import MissingModelError

__all__ = ["HFFolder", "load_hf_folder", "quiet_hf_progress"]


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


class HFFolder(NamedTuple):
    """What :func:`load_hf_folder` loaded."""

    processor: Any
    model: Any
    device: Any
    info: dict


def load_hf_folder(
    path: str,
    processor: str,
    *,
    kind: str,
    device: Any,
    show_progress: bool,
    errors: tuple[type[BaseException], ...] = (OSError, ValueError),
    loading_info: bool = False,
) -> HFFolder:
    """Load a local folder's ``processor`` and ``AutoModel``, offline.

    Parameters
    ----------
    path : str
        The model folder.
    processor : str
        The transformers class that reads the inputs (``"AutoTokenizer"``,
        ``"AutoImageProcessor"``, ``"AutoFeatureExtractor"``).
    kind : str
        The kind of model, for the error message (``"text"``, ...).
    device : str or torch.device
        Where the model goes (see :func:`~skmm.utils._device.resolve_device`);
        it is put in eval mode.
    show_progress : bool
        Show transformers' own progress bars.
    errors : tuple of exception types, default=(OSError, ValueError)
        What a folder that cannot be loaded raises; they become
        :class:`~skmm.exceptions.MissingModelError`.
    loading_info : bool, default=False
        Also return transformers' loading info (``missing_keys``, ...).

    Returns
    -------
    HFFolder
        ``(processor, model, device, info)``; ``info`` is ``{}`` unless
        ``loading_info``.
    """
    import torch  # noqa: F401  (fail early with a clear import error)
    import transformers

    from skmm.utils._device import resolve_device

    extra = {"output_loading_info": True} if loading_info else {}
    try:
        with quiet_hf_progress(show_progress):
            reader = getattr(transformers, processor).from_pretrained(
                path, local_files_only=True
            )
            model = transformers.AutoModel.from_pretrained(
                path, local_files_only=True, **extra
            )
    except errors as exc:
        raise MissingModelError(
            f"Could not load a Hugging Face {kind} model from {path!r}: {exc}"
        ) from exc
    info: dict = {}
    if loading_info:
        model, raw = model
        info = raw if isinstance(raw, dict) else {}
    resolved = resolve_device(device)
    model.to(resolved).eval()
    return HFFolder(reader, model, resolved, info)
