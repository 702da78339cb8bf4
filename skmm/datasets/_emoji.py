"""Emoji drawn in several art styles: the same concept by different artists.

Sources (all obtained by :func:`skmm.datasets.fetch`, none shipped):

- ``noto``: Debian ``fonts-noto-color-emoji`` (OFL-1.1);
- ``openmoji``: npm ``openmoji``, ``color/svg`` and ``data/openmoji.csv``
  (keywords, groups, CLDR names) (CC-BY-SA-4.0);
- ``twemoji``: npm ``emoji-datasource-twitter`` (graphics CC-BY-4.0);
- names, shortcodes, translations: PyPI ``emoji`` (BSD-3-Clause).
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np
import pandas as pd

from skmm.datasets._base import (
    DataNotFoundError,
    composite,
    dataset_folder,
    read_manifest,
)
from skmm.datasets._docs import LOADER_DOCS
from skmm.datasets._emoji_build import (
    STYLES,
    _size_cache,
)
from skmm.datasets._frames import check_choice, check_size, object_column
from skmm.utils._docs import fill_doc

__all__ = ["STYLES", "load_emoji"]


@fill_doc(LOADER_DOCS)
def load_emoji(
    styles: str | Sequence[str] = ("noto", "openmoji"),
    *,
    size: int = 64,
    concepts: str = "shared",
    include_skin_tones: bool = False,
    background: str | tuple[int, int, int] | None = "white",
    languages: Sequence[str] = (),
    data_home: str | os.PathLike[str] | None = None,
) -> pd.DataFrame:
    """Load emoji drawn in several art styles, one row per concept × style.

    The same concept (e.g. "grinning face") drawn by different artists, with
    its CLDR name, keywords and category: a real, fully-paired image–text
    data set for cross-modal retrieval and for classification by ``group``.

    - ``"noto"``: Noto Color Emoji, Debian package ``fonts-noto-color-emoji``
      (OFL-1.1), the font rendered with Pillow at size 109 (its bitmap
      strike); glyphs the font lacks are detected and left out.
    - ``"openmoji"``: OpenMoji, npm package ``openmoji`` (CC-BY-SA-4.0), its
      ``color/svg`` files rendered with cairosvg.
    - ``"twemoji"``: Twemoji, npm package ``emoji-datasource-twitter``
      (graphics CC-BY-4.0), its 64 px PNGs.

    Names come from OpenMoji's ``openmoji.csv`` (the CLDR short names), else
    from the PyPI ``emoji`` package (BSD-3-Clause), which also gives the
    shortcodes and the translated names; keywords (CLDR annotations), group
    and subgroup come from ``openmoji.csv`` (CC-BY-SA-4.0).  About 1,900
    concepts without skin tones are drawn by both Noto and OpenMoji.  Run
    ``skmm.datasets.fetch("emoji")`` first.

    Parameters
    ----------
    styles : str or sequence of str, default=("noto", "openmoji")
        Art styles among ``"noto"``, ``"openmoji"``, ``"twemoji"``.
    size : int, default=64
        Side of the square images in pixels.  Masters are 136 px (Noto,
        OpenMoji) and 64 px (Twemoji); larger sizes are upsampled.  Each new
        size is cached in the data home on first use.
    concepts : {"shared", "all"}, default="shared"
        ``"shared"`` keeps the concepts that every requested style draws (so
        each concept has one row per style); ``"all"`` keeps every concept
        with a row for each style that draws it.
    include_skin_tones : bool, default=False
        Whether to keep skin-tone variants (which are near duplicates).
    background : str, tuple or None, default="white"
        Images are RGB ``uint8`` arrays composited over this colour.  None
        keeps the RGBA arrays with their alpha channel.
    languages : sequence of str, default=()
        Add a ``name_<lang>`` column per language from the ``emoji``
        package (``"de"``, ``"es"``, ``"fr"``, ``"ja"``, ``"zh"``, ...).
    {data_home}

    Returns
    -------
    pandas.DataFrame
        Columns ``concept_id`` (codepoints without ``FE0F``, e.g. ``"1F600"``),
        ``style``, ``image`` (``size × size × 3`` uint8 array, or ``× 4``
        with ``background=None``), ``name``, ``keywords`` (comma-separated),
        ``group``, ``subgroup``, ``emoji`` (the character), ``shortcode``,
        ``unicode_version``, and ``name_<lang>`` per requested language.
        Rows are in Unicode order, styles adjacent.

    Raises
    ------
    DataNotFoundError
        When the data set (or a requested style) has not been fetched.

    Examples
    --------
    >>> from skmm.datasets import load_emoji
    >>> df = load_emoji(("noto", "openmoji"), size=64)  # doctest: +SKIP
    >>> df.groupby("style").size()  # doctest: +SKIP
    style
    noto        1899
    openmoji    1899
    dtype: int64
    >>> df.loc[0, ["concept_id", "name", "group"]].tolist()  # doctest: +SKIP
    ['1F600', 'grinning face', 'smileys-emotion']
    """
    if isinstance(styles, str):
        styles = (styles,)
    styles = tuple(dict.fromkeys(styles))
    unknown = [s for s in styles if s not in STYLES]
    if unknown or not styles:
        raise ValueError(f"styles must be a non-empty subset of {STYLES}, got {styles}")
    check_choice("concepts", concepts, ("shared", "all"))
    size = check_size(size)
    folder = dataset_folder("emoji", data_home)
    manifest = read_manifest(folder)
    absent = [s for s in styles if s not in manifest.get("styles", [])]
    if absent:
        why = manifest.get("skipped_styles", {})
        raise DataNotFoundError(
            f"Emoji style(s) {absent} were not built in {folder}: "
            + "; ".join(f"{s}: {why.get(s, 'unknown reason')}" for s in absent)
            + ". Fix that, then run skmm.datasets.fetch('emoji', force=True).",
            dataset="emoji",
        )
    meta = pd.read_csv(
        folder / "concepts.csv",
        dtype={"concept_id": str},
        keep_default_na=False,
        na_values=[""],
    )
    if not include_skin_tones:
        meta = meta[~meta["skin_tone"]]
    has = meta[[f"has_{s}" for s in styles]].to_numpy(dtype=bool)
    keep = has.all(axis=1) if concepts == "shared" else has.any(axis=1)
    meta = meta[keep].reset_index(drop=True)

    base_cols = [
        "concept_id",
        "name",
        "keywords",
        "group",
        "subgroup",
        "emoji",
        "shortcode",
        "unicode_version",
    ]
    lang_cols = []
    for lang in languages:
        col = f"name_{lang}"
        if col not in meta.columns:
            known = sorted(c[5:] for c in meta.columns if c.startswith("name_"))
            raise ValueError(f"Unknown language {lang!r}; known: {known}")
        lang_cols.append(col)
    meta = meta[base_cols + lang_cols + [f"has_{s}" for s in styles]]
    meta["keywords"] = meta["keywords"].fillna("")

    parts = []
    for rank, style in enumerate(styles):
        ids, images = _size_cache(folder, style, size)
        sub = meta[meta[f"has_{style}"]]
        pos = pd.Series(np.arange(len(ids)), index=ids).reindex(sub["concept_id"])
        if pos.isna().any():
            raise DataNotFoundError(
                f"The {style} cache in {folder} is incomplete; run "
                "skmm.datasets.fetch('emoji', force=True).",
                dataset="emoji",
            )
        block = np.asarray(images[pos.to_numpy(dtype=np.intp)])
        if background is not None:
            block = composite(block, background)
        part = sub.drop(columns=[f"has_{s}" for s in styles]).copy()
        part.insert(1, "style", style)
        part.insert(2, "image", object_column(block, part.index))
        part["_concept_rank"] = sub.index.to_numpy()
        part["_style_rank"] = rank
        parts.append(part)
    out = pd.concat(parts, ignore_index=True)
    out = out.sort_values(["_concept_rank", "_style_rank"], kind="stable")
    out = out.drop(columns=["_concept_rank", "_style_rank"]).reset_index(drop=True)
    return out
