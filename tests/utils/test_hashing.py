"""skmm.utils._hashing: content keys of items."""

from __future__ import annotations

import numpy as np

from skmm.utils._hashing import hash_item


def test_equal_content_equal_key():
    assert hash_item(np.arange(4.0)) == hash_item(np.arange(4.0))
    assert hash_item(np.arange(4.0)[::2]) == hash_item(np.array([0.0, 2.0]))


def test_shape_and_dtype_are_part_of_the_key():
    # np.ascontiguousarray turns a 0-d array into a 1-d one: the key must not
    keys = {
        hash_item(np.array(0, dtype=np.int16)),
        hash_item(np.array([0], dtype=np.int16)),
        hash_item(np.array([[0]], dtype=np.int16)),
        hash_item(np.array([0], dtype=np.int32)),
        hash_item(np.zeros((2, 3))),
        hash_item(np.zeros((3, 2))),
    }
    assert len(keys) == 6
