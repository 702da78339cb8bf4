from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from skmm.compose import resolve_modalities, split_modalities


def test_blocks_from_prefixes_keep_order_and_allow_interleaving():
    names = ["text__f0", "image__f0", "text__f1", "tabular__age"]
    blocks = resolve_modalities(feature_names=names)
    assert list(blocks) == ["text", "image", "tabular"]
    np.testing.assert_array_equal(blocks["text"], [0, 2])


def test_unprefixed_names_give_a_clear_error():
    with pytest.raises(ValueError, match="no 'modality__' prefix.*modalities="):
        resolve_modalities(feature_names=["text__f0", "age"])


def test_plain_array_needs_a_spec():
    with pytest.raises(ValueError, match="pass modalities="):
        split_modalities(np.zeros((2, 3)))


@pytest.mark.parametrize(
    "spec",
    [
        {"a": 2, "b": 3},
        {"a": slice(0, 2), "b": slice(2, 5)},
        {"a": [0, 1], "b": [2, 3, 4]},
    ],
)
def test_spec_forms_agree(spec):
    X = np.arange(10.0).reshape(2, 5)
    blocks = split_modalities(X, spec)
    np.testing.assert_array_equal(blocks["a"], X[:, :2])
    np.testing.assert_array_equal(blocks["b"], X[:, 2:])


def test_spec_by_column_names():
    df = pd.DataFrame(np.eye(3), columns=["x", "y", "z"])
    blocks = split_modalities(df, {"one": ["z"], "two": ["x", "y"]})
    np.testing.assert_array_equal(blocks["one"][:, 0], [0, 0, 1])


def test_width_past_the_end_names_the_modality():
    with pytest.raises(ValueError, match="modality 'b' refers to column 5"):
        resolve_modalities({"a": 2, "b": 4}, n_features=5)


def test_overlap_is_rejected():
    with pytest.raises(ValueError, match="belongs to both"):
        resolve_modalities({"a": [0, 1], "b": [1, 2]}, n_features=3)


def test_bad_spec_types():
    with pytest.raises(TypeError, match="expected a width"):
        resolve_modalities({"a": "oops"}, n_features=3)
    with pytest.raises(ValueError, match="non-empty dict"):
        resolve_modalities({}, n_features=3)
    with pytest.raises(ValueError, match="width must be >= 1"):
        resolve_modalities({"a": 0}, n_features=3)
