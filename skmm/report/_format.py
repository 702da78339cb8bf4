"""How values read in a report's tables: numbers to significant digits,
missing values as a dash, MultiIndex labels joined."""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

__all__ = ["NA", "format_number", "is_number", "label"]

NA = "–"


def format_number(value: Any, digits: int = 4) -> str:
    """Format a number to ``digits`` significant digits for a table cell.

    Integers are written in full; floats keep ``digits`` significant digits
    (all the digits of their integer part, and trailing zeros, so that a
    column lines up), switching to scientific notation below ``1e-3`` and
    from ``1e9`` on; missing values (``None``, ``NaN``, ``pd.NA``) are a dash.

    Parameters
    ----------
    value : number or None
    digits : int, default=4
        Significant digits of floats (at least 1).

    Returns
    -------
    str
        The cell's text.

    Examples
    --------
    >>> from skmm.report import format_number
    >>> [format_number(v) for v in (0.812345, 12.3456, 1234.56, 7, 0.5)]
    ['0.8123', '12.35', '1235', '7', '0.5000']
    >>> format_number(1.5e-5), format_number(float("nan")), format_number(None)
    ('1.500e-05', '–', '–')
    """
    import pandas as pd

    digits = max(1, int(digits))
    if value is None or value is pd.NA or value is pd.NaT:
        return NA
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if isinstance(value, numbers.Complex) and not isinstance(value, numbers.Real):
        return str(value)
    x = float(value)
    if math.isnan(x):
        return NA
    if math.isinf(x):
        return "∞" if x > 0 else "−∞"
    if x == 0:
        return "0" if digits == 1 else "0." + "0" * (digits - 1)
    a = abs(x)
    if a < 1e-3 or a >= 1e9:
        return f"{x:.{digits - 1}e}"
    exponent = math.floor(math.log10(a))
    decimals = max(0, digits - 1 - exponent)
    return f"{x:.{decimals}f}"


def is_number(value: Any) -> bool:
    """A number that is not a boolean."""
    return isinstance(value, numbers.Number) and not isinstance(value, (bool, np.bool_))


def label(value: Any) -> str:
    """A row or column label as text (``a / b`` for a MultiIndex tuple)."""
    if isinstance(value, tuple):  # MultiIndex columns / rows
        return " / ".join(str(v) for v in value if str(v) != "")
    return str(value)
