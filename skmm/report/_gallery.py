"""A retrieval gallery: text queries and their top-ranked images in one PNG."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["save_retrieval_gallery"]

CORRECT_COLOR = "#2ca02c"  # matplotlib's green
OTHER_COLOR = "#d62728"  # matplotlib's red


def _correct_masks(correct: Any, lengths: list[int]) -> list[np.ndarray]:
    """One boolean mask per query: which of its shown images are correct."""
    n = len(lengths)
    if correct is None:
        return [np.zeros(m, dtype=bool) for m in lengths]
    rows = list(correct)
    if len(rows) != n:
        raise ValueError(
            f"correct has {len(rows)} entries but there are {n} queries; give "
            "one position (or None / -1) or one boolean row per query"
        )
    masks = []
    for i, (row, m) in enumerate(zip(rows, lengths)):
        mask = np.zeros(m, dtype=bool)
        if row is None:
            masks.append(mask)
            continue
        arr = np.asarray(row)
        if arr.ndim == 0:  # a position among the shown images
            if arr.dtype.kind not in "iu":
                raise TypeError(
                    f"correct[{i}] = {row!r}: expected an int position "
                    "(-1 or None when the correct item is not shown) or a "
                    "boolean row"
                )
            pos = int(arr)
            if 0 <= pos < m:
                mask[pos] = True
        elif arr.ndim == 1 and arr.dtype == bool:
            take = min(m, arr.shape[0])
            mask[:take] = arr[:take]
        else:
            raise TypeError(
                f"correct[{i}] has shape {arr.shape} and dtype {arr.dtype}; "
                "expected an int position or a 1-D boolean row"
            )
        masks.append(mask)
    return masks


def _to_array(image: Any) -> np.ndarray:
    from skmm.image._io import load_image

    return np.asarray(load_image(image))


def save_retrieval_gallery(
    query_texts: Sequence[str],
    top_images: Sequence[Sequence[Any]] | np.ndarray,
    correct: Any,
    path_png: str | Path,
    *,
    k: int | None = None,
    title: str | None = None,
    wrap: int = 28,
    max_chars: int = 160,
    thumb_size: float = 1.3,
    text_width: float = 2.4,
    dpi: int = 100,
    correct_color: str = CORRECT_COLOR,
    other_color: str | None = OTHER_COLOR,
) -> np.ndarray:
    """Draw text queries and their top-ranked images into one PNG.

    One row per query: the query text on the left (wrapped), then its top
    images in rank order with the rank number above each.  The correct image
    is framed in green (and its rank marked with a check mark), the others
    in red (or not at all with ``other_color=None``).

    Parameters
    ----------
    query_texts : sequence of str
        The ``N`` queries.
    top_images : sequence of sequences of images, or ndarray
        For each query, its retrieved images best first (rows may differ in
        length; ``None`` leaves a cell empty); or an ``(N, k, H, W, 3)``
        array.  An image is an ``H x W x 3`` (or ``H x W``, ``H x W x 4``)
        array of ``uint8`` (or floats in ``[0, 1]``), a ``PIL.Image``, a path
        or encoded bytes.
    correct : sequence or None
        Which shown image is the correct one, per query: an int position
        into that query's row (``-1`` or ``None`` when the correct item is
        not among the shown images), or a boolean row marking every correct
        (relevant) image.  ``None``: nothing is known; no frames are drawn.
    path_png : path
        Where to write the PNG (parent folders are created).
    k : int, optional
        Show at most ``k`` images per query (default: the longest row).
    title : str, optional
        A title above the grid.
    wrap : int, default=28
        Wrap the query text at this many characters per line.
    max_chars : int, default=160
        Truncate longer queries (with an ellipsis).
    thumb_size : float, default=1.3
        Size of one image cell, in inches.
    text_width : float, default=2.4
        Width of the query column, in inches.
    dpi : int, default=100
        Resolution of the PNG.
    correct_color, other_color : str
        Frame colours; ``other_color=None`` draws no frame around the other
        images.

    Returns
    -------
    ranks : ndarray of shape (N,), dtype int
        The 1-based rank of the first correct image among those shown, per
        query; ``0`` when none of the shown images is correct (or
        ``correct`` is ``None``).  ``(ranks == 1).mean()`` is the recall at 1
        of the shown queries.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> import numpy as np
    >>> from skmm.report import save_retrieval_gallery
    >>> rng = np.random.RandomState(0)
    >>> images = rng.randint(0, 256, size=(2, 3, 16, 16, 3), dtype=np.uint8)
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     png = Path(tmp) / "gallery.png"
    ...     ranks = save_retrieval_gallery(
    ...         ["a red square", "a blue circle"], images, [1, -1], png
    ...     )
    ...     png.read_bytes()[:4]
    b'\\x89PNG'
    >>> ranks
    array([2, 0])
    """
    from skmm.utils._imports import import_optional

    import_optional("matplotlib", extra="plot")
    from matplotlib.figure import Figure

    queries = [("" if q is None else str(q)) for q in query_texts]
    rows = [list(r) for r in top_images]
    if len(rows) != len(queries):
        raise ValueError(
            f"{len(queries)} query texts but {len(rows)} rows of images; give "
            "one row of top images per query"
        )
    if not queries:
        raise ValueError("no queries: give at least one query and its images")
    if k is not None:
        if int(k) < 1:
            raise ValueError(f"k must be a positive int, got {k!r}")
        rows = [r[: int(k)] for r in rows]
    n_cols = max((len(r) for r in rows), default=0)
    if n_cols == 0:
        raise ValueError("every row of images is empty")
    masks = _correct_masks(correct, [len(r) for r in rows])
    ranks = np.array(
        [int(np.argmax(m)) + 1 if m.any() else 0 for m in masks], dtype=int
    )

    n = len(queries)
    header = 0.45 if title else 0.0
    row_h = thumb_size + 0.3
    width = text_width + n_cols * thumb_size
    height = n * row_h + header + 0.1
    fig = Figure(figsize=(width, height), dpi=dpi, facecolor="white")
    axes = fig.subplots(
        n,
        n_cols + 1,
        squeeze=False,
        gridspec_kw={"width_ratios": [text_width / thumb_size] + [1.0] * n_cols},
    )
    fig.subplots_adjust(
        left=0.01,
        right=0.99,
        bottom=0.05 / height,
        top=1.0 - (header + 0.05) / height,
        wspace=0.08,
        hspace=0.3 / thumb_size,
    )
    if title:
        fig.suptitle(title, fontsize=12, y=1.0 - 0.08 / height, va="top")
    for i, (query, row, mask) in enumerate(zip(queries, rows, masks)):
        ax = axes[i, 0]
        ax.axis("off")
        text = query if len(query) <= max_chars else query[: max_chars - 1] + "…"
        text = textwrap.fill(text, width=wrap) or "(empty query)"
        ax.text(
            0.0,
            0.55,
            text,
            transform=ax.transAxes,
            ha="left",
            va="center",
            fontsize=10,
            parse_math=False,
        )
        if correct is not None:
            note = f"correct: #{ranks[i]}" if ranks[i] else "correct: not shown"
            ax.text(
                0.0,
                0.02,
                note,
                transform=ax.transAxes,
                ha="left",
                va="bottom",
                fontsize=8,
                color=correct_color if ranks[i] else "#666666",
                parse_math=False,
            )
        for j in range(n_cols):
            ax = axes[i, j + 1]
            ax.set_xticks([])
            ax.set_yticks([])
            image = row[j] if j < len(row) else None
            if image is None:
                ax.axis("off")
                continue
            ax.imshow(_to_array(image), interpolation="antialiased")
            is_correct = bool(mask[j])
            color = correct_color if is_correct else other_color
            for spine in ax.spines.values():
                if color is None:
                    spine.set_visible(False)
                else:
                    spine.set_edgecolor(color)
                    spine.set_linewidth(4.0 if is_correct else 1.5)
            ax.set_title(
                f"{j + 1} ✓" if is_correct else str(j + 1),
                fontsize=9,
                pad=3,
                color=correct_color if is_correct else "#333333",
                fontweight="bold" if is_correct else "normal",
            )
    path = Path(path_png)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format="png", dpi=dpi, facecolor="white")
    return ranks
