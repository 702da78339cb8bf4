"""skmm's conformance checks for encoders (usable by plugin authors).

sklearn's ``check_estimator`` feeds float matrices, which a text, image or
audio encoder cannot read; these checks run the same contracts on real cells
of the encoder's modality.

Examples
--------
>>> from skmm.text import TfidfTextEncoder
>>> from skmm.testing import check_encoder
>>> check_encoder(TfidfTextEncoder(verbose=0),
...               ["a red apple", "a green pear", "blue sky", "red sun"])
"""

from __future__ import annotations

import pickle
import warnings
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import joblib
import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from skmm.exceptions import InvalidItemError, InvalidItemWarning

__all__ = ["check_encoder", "yield_encoder_checks"]

_RTOL, _ATOL = 1e-5, 1e-5


def _close(a: np.ndarray, b: np.ndarray, what: str) -> None:
    np.testing.assert_allclose(a, b, rtol=_RTOL, atol=_ATOL, err_msg=what)


def _series(items: Sequence, name: str = "col") -> pd.Series:
    s = pd.Series([None] * len(items), name=name, dtype=object)
    for i, item in enumerate(items):
        s.iat[i] = item
    return s


def check_fit_transform_basics(encoder: Any, items: Sequence) -> None:
    """fit returns self; transform gives finite float32 ``(n, n_features_out_)``."""
    enc = clone(encoder)
    assert enc.fit(_series(items)) is enc, "fit must return self"
    assert enc.n_features_in_ == 1
    Xt = enc.transform(_series(items))
    assert isinstance(Xt, np.ndarray) and Xt.dtype == np.float32, (type(Xt), Xt.dtype)
    assert Xt.shape == (len(items), enc.n_features_out_), Xt.shape
    assert np.isfinite(Xt).all(), "valid items must give finite features"
    _close(enc.fit_transform(_series(items)), Xt, "fit_transform != fit().transform")


def check_not_fitted(encoder: Any, items: Sequence) -> None:
    """transform before fit raises NotFittedError."""
    try:
        clone(encoder).transform(_series(items))
    except NotFittedError:
        return
    raise AssertionError("transform before fit must raise NotFittedError")


def check_missing_gives_nan_rows(encoder: Any, items: Sequence) -> None:
    """None / NaN cells give all-NaN rows; other rows are unchanged."""
    enc = clone(encoder).fit(_series(items))
    ref = enc.transform(_series(items))
    mixed = [None, *items[:2], float("nan"), *items[2:]]
    out = enc.transform(_series(mixed))
    assert np.isnan(out[0]).all() and np.isnan(out[3]).all(), "missing -> NaN row"
    keep = [1, 2, *range(4, len(mixed))]
    _close(out[keep], ref, "a missing cell changed another row")


def check_duplicates_and_order(encoder: Any, items: Sequence) -> None:
    """Duplicates give equal rows; permuting or subsetting rows commutes."""
    enc = clone(encoder).fit(_series(items))
    ref = enc.transform(_series(items))
    doubled = enc.transform(_series([*items, *items]))
    _close(doubled[: len(items)], doubled[len(items) :], "duplicates differ")
    perm = np.random.RandomState(0).permutation(len(items))
    _close(enc.transform(_series([items[i] for i in perm])), ref[perm], "order")
    half = list(range(0, len(items), 2))
    _close(enc.transform(_series([items[i] for i in half])), ref[half], "subset")


def check_fit_idempotent_and_clone(encoder: Any, items: Sequence) -> None:
    """Fitting twice, or a clone, gives the same output."""
    enc = clone(encoder).fit(_series(items))
    first = enc.transform(_series(items))
    enc.fit(_series(items))
    _close(enc.transform(_series(items)), first, "second fit differs")
    other = clone(enc).fit(_series(items))
    _close(other.transform(_series(items)), first, "clone differs")


def check_pickle_and_dict(encoder: Any, items: Sequence) -> None:
    """pickle / joblib round trips predict the same; transform keeps __dict__."""
    enc = clone(encoder).fit(_series(items))
    before = {k: v for k, v in enc.__dict__.items()}
    ref = enc.transform(_series(items))
    assert set(enc.__dict__) == set(before), "transform changed the attributes"
    _close(pickle.loads(pickle.dumps(enc)).transform(_series(items)), ref, "pickle")
    import io

    buf = io.BytesIO()
    joblib.dump(enc, buf)
    buf.seek(0)
    _close(joblib.load(buf).transform(_series(items)), ref, "joblib")


def check_feature_names(encoder: Any, items: Sequence) -> None:
    """feature_names_in_, get_feature_names_out, set_output and width checks."""
    enc = clone(encoder).fit(_series(items, "photo"))
    assert list(enc.feature_names_in_) == ["photo"]
    names = enc.get_feature_names_out()
    assert len(names) == enc.n_features_out_
    assert len(set(names)) == len(names), "feature names must be unique"
    enc.set_output(transform="pandas")
    out = enc.transform(_series(items, "photo"))
    assert isinstance(out, pd.DataFrame) and list(out.columns) == list(names)
    two = pd.DataFrame({"a": _series(items), "b": _series(items[::-1])})
    enc2 = clone(encoder).fit(two)
    Xt = enc2.transform(two)
    assert Xt.shape == (len(items), 2 * enc2.n_features_out_)
    assert enc2.get_feature_names_out()[0] == "a__f0"
    try:
        enc2.transform(two[["a"]])
    except ValueError as exc:
        assert "feature" in str(exc)
    else:
        raise AssertionError("a column-count mismatch must raise ValueError")


def check_bad_item(encoder: Any, items: Sequence, bad_item: Any = None) -> None:
    """A bad cell raises InvalidItemError naming column and row; with
    ``on_error="nan"`` it becomes a NaN row with a warning and the others
    keep their values."""
    bad = object() if bad_item is None else bad_item
    enc = clone(encoder).fit(_series(items, "col"))
    ref = enc.transform(_series(items, "col"))
    cells = [*items[:1], bad, *items[1:]]
    s = _series(cells, "col")
    s.index = [f"r{i}" for i in range(len(cells))]
    try:
        enc.transform(s)
    except InvalidItemError as exc:
        msg = str(exc)
        assert "'col'" in msg and "'r1'" in msg, msg
        assert exc.column == "col" and exc.row == "r1"
    else:
        raise AssertionError("a bad item must raise InvalidItemError")
    enc.set_params(on_error="nan")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = enc.transform(s)
    assert any(issubclass(w.category, InvalidItemWarning) for w in caught)
    assert np.isnan(out[1]).all()
    _close(np.delete(out, 1, axis=0), ref, "a bad item changed another row")


def yield_encoder_checks() -> Iterator[Callable]:
    """The checks :func:`check_encoder` runs, in order."""
    yield check_fit_transform_basics
    yield check_not_fitted
    yield check_missing_gives_nan_rows
    yield check_duplicates_and_order
    yield check_fit_idempotent_and_clone
    yield check_pickle_and_dict
    yield check_feature_names
    yield check_bad_item


def check_encoder(encoder: Any, items: Sequence, *, bad_item: Any = None) -> None:
    """Run every encoder check on ``encoder`` with valid cells ``items``.

    Parameters
    ----------
    encoder : BaseEncoder
        An unfitted encoder (it is cloned, never modified).
    items : sequence
        At least 4 distinct, valid cells of the encoder's modality.
    bad_item : object, optional
        A cell the encoder cannot read (default: a plain ``object()``).
    """
    if len(items) < 4:
        raise ValueError("check_encoder needs at least 4 distinct items")
    for check in yield_encoder_checks():
        if check is check_bad_item:
            check(encoder, items, bad_item)
        else:
            check(encoder, items)
