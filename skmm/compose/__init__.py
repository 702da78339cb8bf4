"""Compose per-modality encoders and split their output into blocks."""

from skmm.compose._blocks import resolve_modalities, split_modalities
from skmm.compose._distributed import encode_partitions, encode_table
from skmm.compose._modality import ModalityColumnTransformer, make_modality_encoder

__all__ = [
    "ModalityColumnTransformer",
    "encode_partitions",
    "encode_table",
    "make_modality_encoder",
    "resolve_modalities",
    "split_modalities",
]
