"""A report's tables: a DataFrame as a :class:`Table` (the cells' text and
classes, the best values marked), rendered by ``templates/table.html``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from skmm.report._format import NA, format_number, is_number, label
from skmm.report._render import render

__all__ = ["Cell", "Table", "dataframe_to_html", "table_model"]


@dataclass
class Cell:
    """One cell: its text (escaped when rendered), tag and CSS classes."""

    text: str
    tag: str = "td"
    classes: list[str] = field(default_factory=list)
    bold: bool = False


@dataclass
class Table:
    """What ``templates/table.html`` draws."""

    caption: str | None
    head: list[Cell]
    rows: list[list[Cell]]


def _best_rules(best: Any, columns: list[Any], numeric: set[int]) -> dict[int, str]:
    """Column position -> "max" / "min"."""
    if best is None:
        return {}
    if isinstance(best, str):
        rules = {i: best for i in sorted(numeric)}
        what = repr(best)
    elif isinstance(best, Mapping):
        unknown = [c for c in best if c not in columns]
        if unknown:
            raise KeyError(
                f"best names columns {unknown!r} that are not in the table; "
                f"its columns are {columns!r}"
            )
        rules = {i: best[c] for i, c in enumerate(columns) if c in best}
        what = None
    else:
        raise TypeError(
            "best must be None, 'max', 'min' or a mapping column -> 'max' / "
            f"'min'; got {type(best).__name__}"
        )
    for i, how in rules.items():
        if how not in ("max", "min"):
            where = what or f"best[{columns[i]!r}]"
            raise ValueError(f"{where}: expected 'max' or 'min', got {how!r}")
    return rules


def _best_rows(df: Any, rules: Mapping[int, str]) -> dict[int, np.ndarray]:
    """Column position -> which rows hold its best value."""
    import pandas as pd

    best_rows: dict[int, np.ndarray] = {}
    for position, how in rules.items():
        values = pd.to_numeric(df.iloc[:, position], errors="coerce").to_numpy(
            dtype=float, na_value=np.nan
        )
        if np.isnan(values).all():
            continue
        target = np.nanmax(values) if how == "max" else np.nanmin(values)
        best_rows[position] = values == target
    return best_rows


def _value_cell(value: Any, digits: int, bold: bool) -> Cell:
    import pandas as pd

    try:
        missing = bool(pd.isna(value))
    except (TypeError, ValueError):  # array-like cells
        missing = False
    if missing:
        cell = Cell(NA, classes=["na"])
    elif is_number(value):
        cell = Cell(format_number(value, digits), classes=["num"])
    else:
        cell = Cell(str(value))
    if bold:
        cell.classes.append("best")
        cell.bold = True
    return cell


def table_model(
    df: Any, caption: str | None, digits: int, best: Any, index: bool | None
) -> Table:
    """The :class:`Table` that :func:`dataframe_to_html` renders (same
    arguments)."""
    import pandas as pd

    if isinstance(df, pd.Series):
        df = df.to_frame()
    if not isinstance(df, pd.DataFrame):
        df = pd.DataFrame(df)
    columns = list(df.columns)
    numeric = {
        i
        for i, dtype in enumerate(df.dtypes)
        if pd.api.types.is_numeric_dtype(dtype)
        and not pd.api.types.is_bool_dtype(dtype)
    }
    best_rows = _best_rows(df, _best_rules(best, columns, numeric))
    if index is None:
        index = not (
            isinstance(df.index, pd.RangeIndex)
            and df.index.start == 0
            and df.index.step == 1
            and not df.index.name
        )
    head = []
    if index:
        names = [n for n in df.index.names if n is not None]
        head.append(Cell(" / ".join(map(str, names)) if names else "", "th"))
    head += [
        Cell(label(c), "th", ["num"] if i in numeric else [])
        for i, c in enumerate(columns)
    ]
    rows = []
    for r, (name, row) in enumerate(zip(df.index, df.itertuples(index=False))):
        cells = [Cell(label(name), "th")] if index else []
        cells += [
            _value_cell(value, digits, c in best_rows and bool(best_rows[c][r]))
            for c, value in enumerate(row)
        ]
        rows.append(cells)
    return Table(str(caption) if caption else None, head, rows)


def dataframe_to_html(
    df: Any,
    caption: str | None = None,
    *,
    digits: int = 4,
    best: str | Mapping[Any, str] | None = None,
    index: bool | None = None,
) -> str:
    """Render a DataFrame as an HTML ``<table>``, numbers rounded.

    Every cell, column name and caption is HTML-escaped.  Numbers are
    written by :func:`format_number` and right-aligned.

    Parameters
    ----------
    df : pandas.DataFrame or pandas.Series
    caption : str, optional
    digits : int, default=4
        Significant digits of floats.
    best : {"max", "min"} or mapping, optional
        Put the best value of each numeric column in bold: ``"max"`` or
        ``"min"`` for every numeric column, or a mapping ``column ->
        "max" / "min"`` for some of them (e.g. ``{"accuracy": "max",
        "fit_time": "min"}``).  Ties are all bold; missing values ignored.
    index : bool, optional
        Show the index; by default, only when it is not a plain
        ``RangeIndex``.

    Returns
    -------
    str
        The ``<table>`` element, caption first.

    Examples
    --------
    >>> import pandas as pd
    >>> from skmm.report import dataframe_to_html
    >>> df = pd.DataFrame({"model": ["a<b", "c"], "score": [0.91234, 0.8]})
    >>> print(dataframe_to_html(df, best="max"))  # doctest: +NORMALIZE_WHITESPACE
    <table>
    <thead><tr><th>model</th><th class="num">score</th></tr></thead>
    <tbody>
    <tr><td>a&lt;b</td><td class="num best"><strong>0.9123</strong></td></tr>
    <tr><td>c</td><td class="num">0.8000</td></tr>
    </tbody>
    </table>
    """
    return render(
        "table.html",
        table=table_model(df, caption, digits, best, index),
    )
