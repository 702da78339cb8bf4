"""Utilities shared across skmm: devices, optional imports, hashing."""

from skmm.utils._device import resolve_device
from skmm.utils._hashing import hash_item
from skmm.utils._imports import import_optional

__all__ = ["hash_item", "import_optional", "resolve_device"]
