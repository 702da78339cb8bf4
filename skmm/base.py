"""Base classes for writing encoders (for plugin authors too)."""

from skmm._base import BaseEncoder, is_missing
from skmm._pretrained import PretrainedMixin, clear_model_cache

__all__ = ["BaseEncoder", "PretrainedMixin", "clear_model_cache", "is_missing"]
