"""A tiny deterministic encoder for the cache's durability tests.

It counts the items it embeds, can be slowed down (``SKMM_TEST_DELAY`` seconds
per batch, read from the environment so that it is not part of the cache key)
and prints one line per finished batch, so that a test can kill it partway.
"""

from __future__ import annotations

import os
import time

import numpy as np

from skmm.base import BaseEncoder

COMPUTED: list = []


class CountingEncoder(BaseEncoder):
    """Embeds a string as ``[len, ord(first), ord(last), 1]``."""

    _modality = "text"

    def __init__(self, cache=None, batch_size=10, on_error="raise", verbose=0):
        self.cache = cache
        self.batch_size = batch_size
        self.on_error = on_error
        self.verbose = verbose

    def _prepare(self, item):
        if not isinstance(item, str):
            raise TypeError(f"expected a str, got {type(item).__name__}")
        return item

    def _fit_encoder(self, prepared):
        self.n_features_out_ = 4

    def _encode_batch(self, prepared):
        delay = float(os.environ.get("SKMM_TEST_DELAY", "0"))
        if delay:
            time.sleep(delay)
        if "boom-in-batch" in prepared:
            raise RuntimeError("the model choked")
        COMPUTED.extend(prepared)
        out = np.asarray(
            [[len(p), ord(p[0]), ord(p[-1]), 1.0] for p in prepared], np.float32
        )
        if os.environ.get("SKMM_TEST_PRINT"):
            print("batch", len(prepared), flush=True)
        return out
