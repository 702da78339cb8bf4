"""Shared helpers for the benchmark scripts: real inputs and timing."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable


def real_captions(n: int = 2000) -> list[str]:
    """``n`` distinct real captions: emoji names and keyword lists (Unicode
    CLDR, via the emoji data set), then Tux Paint stamp captions."""
    from skmm.datasets import load_emoji

    df = load_emoji(styles=("noto",))
    texts: list[str] = []
    seen: set[str] = set()

    def add(t: str) -> None:
        t = str(t).strip()
        if t and t not in seen:
            seen.add(t)
            texts.append(t)

    for name in df["name"]:
        add(name)
    for kw in df["keywords"]:
        add(f"an emoji about {kw}")
    if len(texts) < n:
        try:
            from skmm.datasets import load_tuxpaint

            for cap in load_tuxpaint()["caption"]:
                add(cap)
        except Exception:
            pass
    if len(texts) < n:
        raise RuntimeError(f"only {len(texts)} distinct captions available")
    return texts[:n]


def median_time(fn: Callable[[], object], repeats: int = 3) -> tuple[float, object]:
    """Median wall time of ``repeats`` calls, and the last result."""
    times = []
    out = None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out
