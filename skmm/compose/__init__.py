"""Compose per-modality encoders and split their output into blocks."""

from skmm.compose._blocks import resolve_modalities, split_modalities
from skmm.compose._modality import make_modality_encoder

__all__ = ["make_modality_encoder", "resolve_modalities", "split_modalities"]
