"""BaseEncoder: every failure maps to its item; blank cells are missing."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from skmm.exceptions import InvalidItemError, InvalidItemWarning, MissingModelError
from tests.cache._counting_encoder import CountingEncoder

ITEMS = [f"word {i}" for i in range(12)]


def _items_with(bad, at):
    items = list(ITEMS)
    items[at] = bad
    return pd.Series(items, index=[f"r{i}" for i in range(12)], name="caption")


def test_a_batch_failure_names_the_item_that_caused_it():
    enc = CountingEncoder(batch_size=5).fit(_items_with("fine", 7))
    with pytest.raises(InvalidItemError, match=r"'caption', row 'r7'.*choked") as info:
        enc.transform(_items_with("boom-in-batch", 7))
    assert (info.value.column, info.value.row) == ("caption", "r7")
    assert isinstance(info.value.__cause__, RuntimeError)


def test_a_batch_failure_under_nan_loses_only_that_row():
    enc = CountingEncoder(batch_size=5, on_error="nan").fit(_items_with("fine", 7))
    with pytest.warns(InvalidItemWarning, match=r"1 of 12 items .*row 'r7'"):
        out = enc.transform(_items_with("boom-in-batch", 7))
    assert np.isnan(out[7]).all()
    ok = np.delete(np.arange(12), 7)
    alone = enc.transform(_items_with("x", 7).iloc[ok])
    np.testing.assert_array_equal(out[ok], alone)


class _Always(CountingEncoder):
    def _encode_batch(self, prepared):
        raise RuntimeError("weights are corrupt")


class _NoModel(CountingEncoder):
    def _encode_batch(self, prepared):
        raise MissingModelError("no weights; pip install skmm[weights]")


@pytest.mark.parametrize(
    "cls, exc", [(_Always, RuntimeError), (_NoModel, MissingModelError)]
)
def test_a_failure_of_every_item_alike_is_not_blamed_on_the_items(cls, exc):
    enc = cls(batch_size=4, on_error="nan").fit(ITEMS)
    with pytest.raises(exc):
        enc.transform(ITEMS)


class _NonFinite(CountingEncoder):
    def _encode_batch(self, prepared):
        out = super()._encode_batch(prepared)
        out[[p == "word 3" for p in prepared]] = np.inf
        return out


@pytest.mark.parametrize("on_error", ["raise", "nan"])
def test_non_finite_embeddings_are_failures(on_error):
    enc = _NonFinite(on_error=on_error).fit(ITEMS)
    if on_error == "raise":
        with pytest.raises(InvalidItemError, match=r"row 3 .*non-finite"):
            enc.transform(ITEMS)
    else:
        with pytest.warns(InvalidItemWarning, match="non-finite"):
            out = enc.transform(ITEMS)
        assert np.isnan(out[3]).all() and np.isfinite(np.delete(out, 3, 0)).all()


class _WrongShape(CountingEncoder):
    def _encode_batch(self, prepared):
        return super()._encode_batch(prepared)[:, :2]


def test_a_batch_of_the_wrong_shape_is_reported():
    enc = _WrongShape(batch_size=4, on_error="nan").fit(ITEMS)
    with pytest.raises(ValueError, match=r"shape \(2, 2\).*expected \(2, 4\)") as info:
        enc.transform(ITEMS[:2])
    assert type(info.value) is ValueError  # the encoder's fault, not an item's


@pytest.mark.parametrize("blank", ["", "   ", "\n\t ", np.str_("")])
def test_blank_strings_are_missing_in_every_modality(blank):
    from skmm.image import ColorHistogramEncoder

    out = CountingEncoder().fit(ITEMS).transform(["word", blank])
    assert np.isnan(out[1]).all() and np.isfinite(out[0]).all()
    img = ColorHistogramEncoder().fit([blank])
    assert np.isnan(img.transform([blank])).all()


def test_lone_surrogates_name_the_row(text_encoder):
    texts = pd.Series(["fine", "bad \ud800 text", "also fine"], name="t", dtype=object)
    text_encoder.fit(texts)
    with pytest.raises(InvalidItemError, match=r"'t', row 1 .*U\+D800"):
        text_encoder.transform(texts)
    with pytest.warns(InvalidItemWarning, match="lone surrogate"):
        out = text_encoder.set_params(on_error="nan").transform(texts)
    assert np.isnan(out[1]).all() and np.isfinite(out[[0, 2]]).all()
