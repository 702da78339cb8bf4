"""Tux Paint's recordings as paired audio–text and audio–image tables.

The stamps of :func:`skmm.datasets.load_tuxpaint` carry two kinds of
recordings: a human-spoken description of the stamp (``<name>_desc.ogg``,
per language ``_desc_<lang>.ogg``; 65 in English) and a sound effect
(``<name>.ogg``; 134).  :func:`load_tuxpaint_audio` keeps the stamps that
have the requested recording, one row per clip, with the stamp's caption and
image beside it.
"""

from __future__ import annotations

import os

import pandas as pd

from skmm.datasets._docs import LOADER_DOCS
from skmm.datasets._tuxpaint import load_tuxpaint
from skmm.utils._docs import fill_doc

__all__ = ["load_tuxpaint_audio"]

_KINDS = ("speech", "effects")


@fill_doc(LOADER_DOCS)
def load_tuxpaint_audio(
    kind: str = "speech",
    *,
    language: str = "en",
    images: str = "path",
    size: int = 128,
    background: str | tuple[int, int, int] | None = "white",
    data_home: str | os.PathLike[str] | None = None,
) -> pd.DataFrame:
    """Load Tux Paint's spoken descriptions or sound effects, paired with stamps.

    One row per recording: the clip (an ``.ogg`` path, read by every
    :mod:`skmm.audio` encoder), the caption of its stamp (audio–text pairs)
    and the stamp's image (audio–image pairs).  The spoken descriptions are
    recorded by people, not synthesised; in English they read the caption
    aloud, sometimes with a few more words.  Run
    ``skmm.datasets.fetch("tuxpaint")`` first.

    Parameters
    ----------
    kind : {"speech", "effects"}, default="speech"
        ``"speech"``: the spoken descriptions (65 stamps in English);
        ``"effects"``: the sound effects (134 stamps: animal calls, engines,
        instruments, ...).
    language : str, default="en"
        For ``kind="speech"``: the Tux Paint locale of the descriptions
        (``"en"``, ``"fr"``, ``"es"``, ``"pt_BR"``, ...); ``caption`` is then
        the caption in that language (the English one where untranslated)
        and ``caption_en`` the English caption.  Ignored for effects.
    images, size, background
        As in :func:`skmm.datasets.load_tuxpaint`.
    {data_home}

    Returns
    -------
    pandas.DataFrame
        Columns ``stamp_id``, ``audio`` (path to the clip), ``caption``,
        ``image``, ``category``, ``subcategory``, plus ``caption_en`` when
        ``language`` is not ``"en"``.  Rows in stamp order, index ``0..n-1``.

    Raises
    ------
    {not_fetched}
    ValueError
        For an unknown ``kind``.

    Examples
    --------
    >>> from skmm.datasets import load_tuxpaint_audio
    >>> speech = load_tuxpaint_audio("speech")  # doctest: +SKIP
    >>> len(speech), speech.columns.tolist()[:3]  # doctest: +SKIP
    (65, ['stamp_id', 'audio', 'caption'])
    >>> len(load_tuxpaint_audio("effects"))  # doctest: +SKIP
    134
    """
    if kind not in _KINDS:
        raise ValueError(f"kind must be one of {_KINDS}, got {kind!r}")
    if not isinstance(language, str) or not language:
        raise ValueError(f"language must be a Tux Paint locale code, got {language!r}")
    other = kind == "speech" and language != "en"
    frame = load_tuxpaint(
        images=images,
        size=size,
        background=background,
        languages=(language,) if other else (),
        data_home=data_home,
    )
    if kind == "effects":
        audio = frame["sound"]
        caption = frame["caption"]
    elif other:
        audio = frame[f"description_audio_{language}"]
        caption = frame[f"caption_{language}"].fillna(frame["caption"])
    else:
        audio = frame["description_audio"]
        caption = frame["caption"]
    out = pd.DataFrame(
        {
            "stamp_id": frame["stamp_id"],
            "audio": audio,
            "caption": caption,
            "image": frame["image"],
            "category": frame["category"],
            "subcategory": frame["subcategory"],
        }
    )
    if other:
        out["caption_en"] = frame["caption"]
    return out[audio.notna().to_numpy()].reset_index(drop=True)
