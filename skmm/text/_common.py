"""What every text encoder shares: reading a text cell."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from skmm.base._encoder import BaseEncoder


class _TextEncoderBase(BaseEncoder):
    _modality: ClassVar[str] = "text"
    _empty_string_is_missing: ClassVar[bool] = True

    def _prepare(self, item: Any) -> str:
        if isinstance(item, (str, np.str_)):
            return str(item)
        raise TypeError(f"expected a str, got {type(item).__name__}")

    def _item_key(self, item: Any):
        # strings are their own key; anything else fails in _prepare
        return item if isinstance(item, str) else repr((type(item), item))
