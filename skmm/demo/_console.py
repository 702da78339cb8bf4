"""What the demo prints: plain-text tables and numbered, timed step headers."""

from __future__ import annotations

import time
from typing import Any

__all__ = ["Steps", "df_text", "table"]


def _line(cells: list[str], widths: list[int]) -> str:
    return "  ".join(c.ljust(w) for c, w in zip(cells, widths))


def table(rows: list[list[str]], header: list[str]) -> str:
    """``rows`` under ``header``, columns padded, a rule under the header."""
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    out = [_line(header, widths), _line(["-" * w for w in widths], widths)]
    out += [_line([str(c) for c in r], widths) for r in rows]
    return "\n".join(out)


def df_text(df: Any, floatfmt: str = "{:.3f}") -> str:
    """A DataFrame as a :func:`table`, its index first, floats formatted."""
    rows = []
    for idx, r in df.iterrows():
        rows.append(
            [str(idx)]
            + [floatfmt.format(v) if isinstance(v, float) else str(v) for v in r]
        )
    return table(rows, [df.index.name or ""] + [str(c) for c in df.columns])


class Steps:
    """Numbered step headers and their timings."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.n = 0
        self.times: dict[str, float] = {}
        self._t0 = 0.0
        self._name = ""

    def start(self, name: str) -> None:
        """Close the running step and print the header of the next one."""
        self.stop()
        self.n += 1
        self._name = name
        self._t0 = time.perf_counter()
        print(f"\n[{self.n}/{self.total}] {name}", flush=True)

    def stop(self) -> None:
        """Record the running step's time."""
        if self._name:
            self.times[self._name] = time.perf_counter() - self._t0
            self._name = ""
