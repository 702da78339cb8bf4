"""What the fuzz suite shares: labelled cells, odd tables, and the property.

A strategy of a modality draws :class:`Cell` objects: a value and what an
encoder must make of it,

- ``"valid"``: a row of finite values;
- ``"missing"``: a row of NaN, silently;
- ``"bad"``: a row of NaN counted by one ``InvalidItemWarning`` under
  ``on_error="nan"``, an ``InvalidItemError`` naming its row and column under
  ``on_error="raise"``;
- ``"odd"``: either of the two (a truncated file may still decode).

:func:`tables` puts cells into a list, an object array, a Series or a
DataFrame with an odd index (duplicate, unsorted, string, datetime, tuple
labels, a MultiIndex), and :func:`check_property` checks an encoder on it.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import event
from hypothesis import strategies as st

from skmm.exceptions import InvalidItemError, InvalidItemWarning

KINDS = ("valid", "missing", "bad", "odd")


@dataclass
class Cell:
    """A cell value and the outcome it must have (one of :data:`KINDS`)."""

    value: Any
    kind: str
    note: str = ""

    def __repr__(self) -> str:
        value = self.value
        if isinstance(value, np.ndarray):
            text = f"array(shape={value.shape}, dtype={value.dtype})"
        elif isinstance(value, (bytes, bytearray)):
            text = f"bytes(len={len(value)}, head={bytes(value[:12])!r})"
        elif isinstance(value, str) and len(value) > 60:
            text = f"{value[:40]!r}...(len={len(value)})"
        else:
            text = repr(value)
            text = text if len(text) < 120 else text[:117] + "..."
        note = f", {self.note}" if self.note else ""
        return f"Cell({text}, {self.kind}{note})"


@dataclass
class Column:
    name: str
    cells: list[Cell]


@dataclass
class Table:
    """An input ``X`` with its columns' cells and its row labels.

    ``fitted_as`` says which layout the encoder must have been fitted on:
    ``"plain"`` (a list or an array, no feature names), ``"named"`` (one
    column called ``"cell"``) or ``"pair"`` (columns ``PAIR``).
    """

    X: Any
    columns: list[Column]
    rows: list
    fitted_as: str
    layout: str = ""
    extra: dict = field(default_factory=dict)

    def __repr__(self) -> str:
        cols = "; ".join(f"{c.name!r}: {c.cells!r}" for c in self.columns)
        return f"Table({self.layout}, rows={self.rows!r}, {cols})"


PAIR = ("left", "right ✓")


# ----------------------------------------------------------------- missing
def missing_cells(*, strings: bool = True) -> st.SearchStrategy[Cell]:
    """None, NaN (float and numpy), ``pd.NA``, ``pd.NaT``, and (``strings``)
    ``""`` and whitespace-only strings."""
    values = [None, float("nan"), np.nan, np.float32("nan"), pd.NA, pd.NaT]
    base = st.sampled_from(values)
    if strings:
        blank = st.text(st.sampled_from(" \t\n\r\x0b\x0c\u3000\u00a0\u2003"))
        base = st.one_of(base, blank, st.just(""))
    return base.map(lambda v: Cell(v, "missing"))


def other_objects() -> st.SearchStrategy[Cell]:
    """Cells of a type no encoder reads (for text: anything but a str)."""
    return st.one_of(
        st.integers(-(2**70), 2**70),
        st.floats(allow_nan=False),
        st.booleans(),
        st.complex_numbers(allow_nan=False, max_magnitude=1e6),
        st.just(object()),
        st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
        st.sets(st.integers(), max_size=2),
        st.just(np.datetime64("2020-01-01")),
        st.just(Ellipsis),
    ).map(lambda v: Cell(v, "bad", "unsupported type"))


# ------------------------------------------------------------------ tables
def _indexes(n: int) -> st.SearchStrategy[Any]:
    """An index of ``n`` labels, ``None`` for the default RangeIndex."""
    small = st.lists(st.integers(-3, 3), min_size=n, max_size=n)
    return st.one_of(
        st.just(None),
        st.builds(
            lambda start, step: pd.RangeIndex(start, start + step * n, step),
            st.integers(-5, 10**6),
            st.sampled_from([1, 3, 7, -1, -4]),
        ),
        small.map(pd.Index),  # duplicated and unsorted
        st.lists(st.text(max_size=4), min_size=n, max_size=n).map(
            lambda v: pd.Index(v, dtype=object)
        ),
        st.lists(st.floats(-10, 10, allow_nan=False), min_size=n, max_size=n).map(
            pd.Index
        ),
        st.lists(
            st.tuples(st.sampled_from(["a", "b", "ü"]), st.integers(0, 2)),
            min_size=n,
            max_size=n,
        ).map(pd.MultiIndex.from_tuples),
        st.just(pd.date_range("2021-03-01", periods=n, freq="h")[::-1]),
        st.lists(
            st.sampled_from([0, "0", 1.5, "row 1", -2]), min_size=n, max_size=n
        ).map(lambda v: pd.Index(v, dtype=object)),
    )


def _object_array(values: list) -> np.ndarray:
    arr = np.empty(len(values), dtype=object)
    for i, v in enumerate(values):
        arr[i] = v
    return arr


def _pandas(make, data, dtype, **kw):
    if dtype is None:
        try:
            return make(data, **kw)
        except Exception:
            pass
    return make(data, dtype=object, **kw)


@st.composite
def tables(
    draw,
    cells: st.SearchStrategy[Cell],
    *,
    max_rows: int = 6,
    stack: st.SearchStrategy | None = None,
    append: list[Cell] | None = None,
    layouts: tuple[str, ...] = ("list", "array", "series", "frame", "pair"),
) -> Table:
    """A table of ``cells`` in one of ``layouts``.

    ``stack`` (a strategy of ``(X, cells)``), when given, adds the layout
    ``"stack"``: a numeric array that the encoder reads as one column of
    items.  ``append`` cells end every column (e.g. one text TF-IDF can fit
    on).
    """
    names = list(layouts) + (["stack"] if stack is not None else [])
    layout = draw(st.sampled_from(names))
    if layout == "stack":
        X, stacked = draw(stack)
        return Table(
            X, [Column("x0", stacked)], list(range(len(stacked))), "plain", layout
        )
    n = draw(st.integers(1, max_rows))
    ncol = 2 if layout == "pair" else 1
    cols = [
        draw(st.lists(cells, min_size=n, max_size=n)) + list(append or [])
        for _ in range(ncol)
    ]
    n = len(cols[0])
    if layout in ("list", "array"):
        values = [c.value for c in cols[0]]
        X = values if layout == "list" else _object_array(values)
        return Table(X, [Column("x0", cols[0])], list(range(n)), "plain", layout)
    index = draw(_indexes(n))
    # pandas infers a dtype (str, float, datetime) where it can, as in a
    # user's table; object columns where it cannot (lone surrogates)
    dtype = None if draw(st.booleans()) else object
    if layout == "series":
        values = _object_array([c.value for c in cols[0]])
        X = _pandas(pd.Series, values, dtype, index=index, name="cell")
        return Table(X, [Column("cell", cols[0])], list(X.index), "named", layout)
    names = ["cell"] if layout == "frame" else list(PAIR)
    data = {
        name: _object_array([c.value for c in col]) for name, col in zip(names, cols)
    }
    X = _pandas(pd.DataFrame, data, dtype, index=index)
    columns = [Column(name, col) for name, col in zip(names, cols)]
    return Table(X, columns, list(X.index), "named" if ncol == 1 else "pair", layout)


class Fitted(dict):
    """A dict of fitted encoders, with a short repr for failure reports."""

    def __repr__(self) -> str:
        return f"<fitted {sorted(self)}>"


def fit_layouts(make, fit_cells: list) -> Fitted:
    """``make()`` fitted once per layout a :class:`Table` may need."""
    plain = make().fit(list(fit_cells))
    named = make().fit(pd.DataFrame({"cell": _object_array(fit_cells)}))
    pair = make().fit(pd.DataFrame({name: _object_array(fit_cells) for name in PAIR}))
    return Fitted(plain=plain, named=named, pair=pair)


# ---------------------------------------------------------------- property
def _key(enc, value: Any, pos: int):
    try:
        return enc._item_key(value)
    except Exception:
        return ("__unkeyed__", pos)


def _same_label(a: Any, b: Any) -> bool:
    try:
        return bool(a == b) and type(a) is type(b)
    except Exception:
        return False


_COUNT = re.compile(r"^(\d+) of (\d+) items in column (.*) could not be read")


def _transform(enc, X):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = enc.transform(X)
    return out, caught


def check_property(enc, table: Table, kinds: dict | None = None) -> np.ndarray:
    """Check the encoder's contract on ``table``; returns the NaN-mode output.

    Under ``on_error="nan"``: a float32 ``(n, d * n_columns)`` array without
    inf, each row all finite or all NaN; valid cells finite, missing and bad
    cells NaN; per column with failures exactly one ``InvalidItemWarning``
    whose count is the number of distinct failed items, none otherwise; no
    other warning.  Under ``on_error="raise"``: the same rows when nothing
    failed, else an ``InvalidItemError`` (nothing else) naming the first
    failing column and a row label of a failed cell.

    ``kinds`` maps a cell's ``note`` to the kind this encoder must give it
    (e.g. lone surrogates: valid for TF-IDF, odd for a transformer).
    """
    kinds = kinds or {}
    event(f"layout {table.layout}")
    n, ncol, d = len(table.rows), len(table.columns), enc.n_features_out_

    def kind_of(cell: Cell) -> str:
        return kinds.get(cell.note, cell.kind)

    enc.set_params(on_error="nan")
    out, caught = _transform(enc, table.X)
    assert isinstance(out, np.ndarray), type(out)
    assert out.dtype == np.float32, out.dtype
    assert out.shape == (n, d * ncol), (out.shape, n, d, ncol)
    assert not np.isinf(out).any(), "inf in the output"
    invalid = [w for w in caught if issubclass(w.category, InvalidItemWarning)]
    others = [w for w in caught if not issubclass(w.category, InvalidItemWarning)]
    assert not others, [
        f"{w.category.__name__}: {w.message} ({w.filename}:{w.lineno})" for w in others
    ]

    # the cells as the encoder sees them (pandas may have boxed some)
    seen = [c.cells for c in enc._columns(table.X, reset=False)]
    failing: list[list[int]] = []
    for j, col in enumerate(table.columns):
        block = out[:, j * d : (j + 1) * d]
        finite = np.isfinite(block).all(axis=1)
        nan = np.isnan(block).all(axis=1)
        for i, cell in enumerate(col.cells):
            where = f"column {col.name!r}, row {table.rows[i]!r}: {cell!r}"
            assert finite[i] or nan[i], f"a row partly NaN at {where}"
            kind = kind_of(cell)
            event(f"{kind} cell -> {'finite' if finite[i] else 'NaN'}")
            if kind == "valid":
                assert finite[i], f"a valid cell gave NaN at {where}"
            elif kind in ("missing", "bad"):
                assert nan[i], f"a {kind} cell gave finite values at {where}"
        bad = [i for i, c in enumerate(col.cells) if nan[i] and kind_of(c) != "missing"]
        failing.append(bad)
        mine = [
            w
            for w in invalid
            if f"items in column {col.name!r} could" in str(w.message)
        ]
        if not bad:
            assert not mine, f"a warning without a failed cell in {col.name!r}: {mine}"
            continue
        assert len(mine) == 1, (
            f"{len(mine)} InvalidItemWarning(s) for {len(bad)} failed cell(s) in "
            f"column {col.name!r}"
        )
        match = _COUNT.match(str(mine[0].message))
        assert match, str(mine[0].message)
        present = [i for i, v in enumerate(seen[j]) if not enc._is_missing(v)]
        n_failed = len({_key(enc, seen[j][i], i) for i in bad})
        n_items = len({_key(enc, seen[j][i], i) for i in present})
        assert match.group(1, 2) == (str(n_failed), str(n_items)), (
            str(mine[0].message),
            n_failed,
            n_items,
        )
    assert len(invalid) == sum(1 for b in failing if b)

    enc.set_params(on_error="raise")
    first = next((j for j, b in enumerate(failing) if b), None)
    try:
        if first is None:
            again, caught = _transform(enc, table.X)
            assert not caught, [f"{w.category.__name__}: {w.message}" for w in caught]
            np.testing.assert_allclose(again, out, rtol=1e-5, atol=1e-6)
            return out
        with pytest.raises(InvalidItemError) as info:
            _transform(enc, table.X)
    finally:
        enc.set_params(on_error="nan")
    err, col = info.value, table.columns[first]
    assert err.column == col.name, (err.column, col.name)
    labels = [table.rows[i] for i in failing[first]]
    assert any(_same_label(err.row, label) for label in labels), (err.row, labels)
    message = str(err)
    assert repr(col.name) in message and repr(err.row) in message, message
    return out
