"""Fuzzing the text encoders: any unicode, lone surrogates, control
characters, whitespace, very long strings, cells that are not text."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skmm.exceptions import InvalidItemError, InvalidItemWarning
from skmm.text import TextEncoder, TfidfTextEncoder
from tests.fuzz._property import (
    Cell,
    Fitted,
    check_property,
    fit_layouts,
    missing_cells,
    other_objects,
    tables,
)

FUZZ = settings.get_profile("skmm-fuzz")
FUZZ_LONG = settings.get_profile("skmm-fuzz-long")

CORPUS = ["a red apple", "a green apple", "the blue sky", "a dog on a mat",
          "smiling face with heart eyes", "flag of france"]  # fmt: skip
# how each encoder must take a text with a lone surrogate (not valid
# Unicode): TF-IDF's regular expressions read it; a tokenizer cannot, so
# TextEncoder may refuse it (an InvalidItemError naming the row) or embed it
KINDS = {
    "tfidf": {"surrogate": "valid"},
    "tfidf-svd": {"surrogate": "valid"},
    "transformer": {"surrogate": "odd"},
}


@pytest.fixture(scope="module")
def encoders(tmp_path_factory):
    from skmm.testing import make_tiny_text_model

    model = make_tiny_text_model(tmp_path_factory.mktemp("fuzz_bert"))
    makers = {
        "tfidf": lambda: TfidfTextEncoder(verbose=0),
        "tfidf-svd": lambda: TfidfTextEncoder(
            n_components=3, random_state=0, ngram_range=(1, 2), verbose=0
        ),
        "transformer": lambda: TextEncoder(
            str(model), device="cpu", batch_size=4, verbose=0
        ),
    }
    return Fitted({name: fit_layouts(make, CORPUS) for name, make in makers.items()})


# -------------------------------------------------------------- strategies
SURROGATES = st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF)
CONTROL = st.characters(categories=["Cc", "Cf", "Zs", "Zl", "Zp", "Co", "Cn", "Mn"])
WORDS = st.sampled_from(CORPUS + ["apple", "ÄPFEL", "😀", "日本語", "שלום", "\u200b"])


def _text_cell(text: str) -> Cell:
    if not text.strip():
        return Cell(text, "missing", "blank")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return Cell(text, "valid", "surrogate")
    return Cell(text, "valid", "text")


def texts() -> st.SearchStrategy[str]:
    mixed = st.text(
        st.one_of(st.characters(), CONTROL, SURROGATES, WORDS.map(lambda w: w[0])),
        max_size=30,
    )
    return st.one_of(
        st.text(max_size=30),  # any unicode (no surrogates)
        mixed,
        st.lists(WORDS, max_size=6).map(" ".join),
        st.builds(
            lambda w, k: w * k, st.text(min_size=1, max_size=12), st.integers(200, 3000)
        ),  # very long
        st.builds(lambda a, s, b: a + s + b, WORDS, SURROGATES, WORDS),
        st.text(CONTROL, max_size=8),
    )


def text_cells() -> st.SearchStrategy[Cell]:
    as_np = texts().map(lambda t: (_text_cell(t), np.str_(t)))
    return st.one_of(
        texts().map(_text_cell),
        as_np.map(lambda p: Cell(p[1], p[0].kind, p[0].note)),
        missing_cells(),
        other_objects(),
        st.binary(max_size=10).map(lambda b: Cell(b, "bad", "bytes")),
        st.lists(st.text(max_size=3), max_size=2).map(lambda v: Cell(v, "bad", "list")),
        st.just(Cell(np.array(["a", "b"]), "bad", "array of str")),
        st.just(Cell(("a", "b"), "bad", "tuple")),
    )


def _check(encoders, name, data):
    table = data.draw(tables(text_cells()), "table")
    check_property(encoders[name][table.fitted_as], table, KINDS[name])


# ------------------------------------------------------------------- tests
@pytest.mark.parametrize("name", sorted(KINDS))
@settings(FUZZ)
@given(data=st.data())
def test_text_encoders_property(encoders, name, data):
    _check(encoders, name, data)


@pytest.mark.fuzz_long
@pytest.mark.parametrize("name", sorted(KINDS))
@settings(FUZZ_LONG)
@given(data=st.data())
def test_text_encoders_property_long(encoders, name, data):
    _check(encoders, name, data)


def _check_tfidf_fit(data):
    """TF-IDF reads its training cells at fit: the same contract holds there
    (one text it can learn from ends every column)."""
    table = data.draw(
        tables(text_cells(), append=[Cell("red apple", "valid")]), "table"
    )
    enc = TfidfTextEncoder(n_components=2, random_state=0, verbose=0)
    failed = False
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        enc.set_params(on_error="nan").fit(table.X)
    for w in caught:
        if issubclass(w.category, InvalidItemWarning):
            failed = True
        else:  # the SVD's own "n_components exceeds" warning is expected
            assert "n_components" in str(w.message), str(w.message)
    bad = [c for col in table.columns for c in col.cells if c.kind == "bad"]
    assert failed == bool(bad), (failed, bad)
    out = check_property(enc, table, KINDS["tfidf"])
    if bad:
        with pytest.raises(InvalidItemError) as info:
            TfidfTextEncoder(verbose=0).fit(table.X)
        assert info.value.column in [c.name for c in table.columns]
    assert np.isfinite(out[-1]).all()


@settings(FUZZ)
@given(data=st.data())
def test_tfidf_fit_property(data):
    _check_tfidf_fit(data)


@pytest.mark.fuzz_long
@settings(FUZZ_LONG)
@given(data=st.data())
def test_tfidf_fit_property_long(data):
    _check_tfidf_fit(data)
