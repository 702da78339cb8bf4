"""Base classes for writing encoders (for plugin authors too).

The implementation lives in private modules beside this one:
``_encoder`` (:class:`BaseEncoder`), ``_cells`` (columns and missing cells),
``_cache_sink`` (the embedding cache as an encoder uses it) and
``_pretrained`` (:class:`PretrainedMixin` and the shared model cache).
"""

from skmm.base._cells import is_missing
from skmm.base._encoder import BaseEncoder
from skmm.base._pretrained import PretrainedMixin, clear_model_cache

__all__ = ["BaseEncoder", "PretrainedMixin", "clear_model_cache", "is_missing"]
