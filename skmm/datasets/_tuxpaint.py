"""Tux Paint's default rubber stamps: images with captions, translations, sounds.

Source: the Debian package ``tuxpaint-stamps-default`` (GPL-2.0-or-later),
taken with ``apt-get download`` and unpacked with ``dpkg-deb -x`` (not
installed).  Each stamp is an image (PNG photo or clip art, or SVG) in a
category folder, with a ``.txt`` file whose first line is the English caption
and whose other lines (``fr.utf8=...``) are translations; some stamps have a
spoken description (``<name>_desc.ogg``, per language ``_desc_<lang>.ogg``)
and a sound effect (``<name>.ogg``).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from skmm.datasets._base import (
    DataNotFoundError,
    composite,
    dataset_folder,
    get_data_home,
    read_manifest,
)
from skmm.datasets._docs import LOADER_DOCS
from skmm.datasets._frames import check_choice, check_size, object_column
from skmm.datasets._sources import Source, unpacked_root
from skmm.utils._docs import fill_doc

__all__ = ["load_tuxpaint"]

PACKAGE = "tuxpaint-stamps-default"
STAMPS = "usr/share/tuxpaint/stamps"
#: Longest side of the PNGs rasterised from SVG-only stamps.
RASTER_SIDE = 512
_AUDIO_EXT = (".ogg", ".wav")

# The marker is the package's own copyright file: the ``tuxpaint`` program
# alone also creates a (near empty) stamps folder.
SOURCES = (
    Source("apt", PACKAGE, "GPL-2.0-or-later", f"usr/share/doc/{PACKAGE}/copyright"),
)


def _audio(stem: Path, suffix: str) -> Path | None:
    for ext in _AUDIO_EXT:
        p = stem.with_name(stem.name + suffix + ext)
        if p.exists():
            return p
    return None


def _parse_caption(text: str) -> tuple[str, dict[str, str]]:
    """English caption (first line) and ``{lang: caption}`` translations.

    Examples
    --------
    >>> _parse_caption("A cat.\\nfr.utf8=Un chat.\\nde.utf8=Eine Katze.\\n")
    ('A cat.', {'fr': 'Un chat.', 'de': 'Eine Katze.'})
    """
    caption = ""
    translations: dict[str, str] = {}
    for line in text.splitlines():
        line = line.strip().lstrip("\ufeff")
        if not line:
            continue
        key, sep, value = line.partition("=")
        if sep and key.endswith(".utf8") and " " not in key:
            translations[key[: -len(".utf8")]] = value.strip()
        elif not caption:
            caption = line
    return caption, translations


def _scan(stamps: Path) -> list[dict[str, Any]]:
    """One record per captioned stamp image under ``stamps``."""
    records = []
    for txt in sorted(stamps.rglob("*.txt")):
        stem = txt.with_suffix("")
        png, svg = stem.with_suffix(".png"), stem.with_suffix(".svg")
        has_png, has_svg = png.exists(), svg.exists()
        if not (has_png or has_svg):
            continue
        caption, translations = _parse_caption(
            txt.read_text(encoding="utf-8", errors="replace")
        )
        if not caption:
            continue
        rel = stem.relative_to(stamps)
        folder = rel.parent.as_posix()
        desc = {}
        for lang in [""] + sorted(translations):
            p = _audio(stem, "_desc" + (f"_{lang}" if lang else ""))
            if p is not None:
                desc[lang or "en"] = p.relative_to(stamps).as_posix()
        sound = _audio(stem, "")
        records.append(
            {
                "stamp_id": rel.as_posix(),
                "caption": caption,
                "category": rel.parts[0] if len(rel.parts) > 1 else "",
                "subcategory": folder,
                "format": "+".join(
                    f for f, h in (("png", has_png), ("svg", has_svg)) if h
                ),
                "png": png.relative_to(stamps).as_posix() if has_png else None,
                "svg": svg.relative_to(stamps).as_posix() if has_svg else None,
                "sound": sound.relative_to(stamps).as_posix() if sound else None,
                "description_audio": desc,
                "translations": translations,
            }
        )
    return records


_ENTITY = re.compile(rb"""<!ENTITY\s+([\w.-]+)\s+(["'])(.*?)\2\s*>""", re.S)
_DOCTYPE = re.compile(rb"<!DOCTYPE[^\[>]*(\[.*?\])?\s*>", re.S)


def _expand_entities(svg: bytes) -> bytes:
    """Inline the internal entities of an SVG's DOCTYPE and drop the DOCTYPE.

    Illustrator SVGs declare namespaces as entities (``&ns_svg;``), which
    cairosvg's safe XML parser refuses.

    Examples
    --------
    >>> _expand_entities(b'<!DOCTYPE svg [<!ENTITY ns "x">]><svg a="&ns;"/>')
    b'<svg a="x"/>'
    """
    match = _DOCTYPE.search(svg)
    if match is None:
        return svg
    entities = dict((m.group(1), m.group(3)) for m in _ENTITY.finditer(match.group(0)))
    body = svg[: match.start()] + svg[match.end() :]
    for name, value in entities.items():
        body = body.replace(b"&" + name + b";", value)
    return body


def _rasterize(svg: Path, out: Path, cairosvg: Any) -> None:
    import io

    from PIL import Image

    data = _expand_entities(svg.read_bytes())
    png = cairosvg.svg2png(bytestring=data)
    with Image.open(io.BytesIO(png)) as img:
        w, h = img.size
    scale = RASTER_SIDE / max(w, h, 1)
    png = cairosvg.svg2png(bytestring=data, scale=scale)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(png)


def _build(
    roots: dict[str, Path], folder: Path, say: Callable[[str], None]
) -> dict[str, Any]:
    from skmm.datasets._emoji_build import _cairosvg

    stamps = roots[PACKAGE] / STAMPS
    records = _scan(stamps)
    cairosvg = _cairosvg()
    n_raster = 0
    failed: list[str] = []
    for rec in records:
        rec["raster"] = None
        if rec["png"] is None and cairosvg is not None:
            out = folder / "raster" / (rec["stamp_id"] + ".png")
            try:
                _rasterize(stamps / rec["svg"], out, cairosvg)
            except Exception as exc:  # a malformed drawing: keep its SVG path
                failed.append(f"{rec['svg']}: {type(exc).__name__}: {exc}")
                continue
            rec["raster"] = out.relative_to(folder).as_posix()
            n_raster += 1
    svg_only = sum(r["png"] is None for r in records)
    if svg_only and cairosvg is None:
        say(
            f"tuxpaint: cairosvg is not importable: {svg_only} SVG-only stamps keep "
            "their .svg path (pip install cairosvg, then fetch('tuxpaint', force=True))"
        )
    (folder / "stamps.json").write_text(json.dumps(records, ensure_ascii=False))
    for cache in (folder / "cache").glob("*.npz"):
        cache.unlink()
    languages = sorted({k for r in records for k in r["translations"]})
    return {
        "stamps": len(records),
        "png": sum(r["png"] is not None for r in records),
        "svg": sum(r["svg"] is not None for r in records),
        "svg_only": svg_only,
        "svg_rasterized": n_raster,
        "svg_failed": failed,
        "with_description_audio_en": sum(
            "en" in r["description_audio"] for r in records
        ),
        "with_description_audio_any": sum(
            bool(r["description_audio"]) for r in records
        ),
        "with_sound": sum(r["sound"] is not None for r in records),
        "categories": sorted({r["category"] for r in records}),
        "subcategories": len({r["subcategory"] for r in records}),
        "languages": languages,
    }


def _stamps_root(folder: Path, data_home: Any) -> Path:
    manifest = read_manifest(folder)
    root = Path(manifest["sources"][PACKAGE]["root"])
    if not (root / STAMPS).is_dir():
        found = unpacked_root(SOURCES[0], get_data_home(data_home) / "sources")
        if found is None:
            raise DataNotFoundError(
                f"The Tux Paint stamps are no longer at {root}; run "
                "skmm.datasets.fetch('tuxpaint', force=True).",
                dataset="tuxpaint",
            )
        root = found
    return root / STAMPS


def _fit_square(path: str, size: int) -> np.ndarray:
    """RGBA array of the image at ``path`` fitted into a ``size`` square."""
    from PIL import Image

    with Image.open(path) as img:
        img = img.convert("RGBA")
        img.thumbnail((size, size), Image.Resampling.LANCZOS)
        canvas = Image.new("RGBA", (size, size), (0, 0, 0, 0))
        canvas.paste(img, ((size - img.width) // 2, (size - img.height) // 2))
    return np.asarray(canvas)


def _array_cache(
    folder: Path, paths: list[str], ids: list[str], size: int
) -> np.ndarray:
    path = folder / "cache" / f"images-{size}.npz"
    if path.exists():
        with np.load(path) as z:
            if z["ids"].tolist() == ids:
                return z["images"]
    images = np.zeros((len(paths), size, size, 4), dtype=np.uint8)
    for i, p in enumerate(paths):
        if p.endswith(".svg"):
            raise DataNotFoundError(
                f"{p} is an SVG and cairosvg is not importable; pip install cairosvg "
                "and run skmm.datasets.fetch('tuxpaint', force=True).",
                dataset="tuxpaint",
            )
        images[i] = _fit_square(p, size)
    try:
        path.parent.mkdir(exist_ok=True)
        tmp = path.with_name(f".{path.stem}.{os.getpid()}.npz")
        np.savez_compressed(tmp, ids=np.array(ids, dtype=str), images=images)
        os.replace(tmp, path)
    except OSError:
        pass
    return images


@fill_doc(LOADER_DOCS)
def load_tuxpaint(
    *,
    images: str = "path",
    size: int = 128,
    background: str | tuple[int, int, int] | None = "white",
    languages: Sequence[str] = (),
    data_home: str | os.PathLike[str] | None = None,
) -> pd.DataFrame:
    """Load Tux Paint's default stamps: images with English captions and audio.

    About 950 stamps (photos and clip art as PNG, drawings as SVG) from the
    Debian package ``tuxpaint-stamps-default`` (licence GPL-2.0-or-later),
    each with an English caption, translations into ~70 languages, a
    category from its folder, and for some a spoken description and a sound
    effect.  Run ``skmm.datasets.fetch("tuxpaint")`` first.

    Parameters
    ----------
    images : {"path", "array"}, default="path"
        ``"path"``: the ``image`` column holds file paths (PNG; SVG-only
        stamps are rasterised to PNG at fetch time when cairosvg is
        available).  ``"array"``: ``size × size`` uint8 arrays, the image
        fitted into the square (aspect kept), cached per size.
    size : int, default=128
        Side of the square arrays when ``images="array"``.
    background : str, tuple or None, default="white"
        For arrays: composite RGBA onto this colour and return RGB; None keeps
        RGBA.
    languages : sequence of str, default=()
        Tux Paint locale codes (``"fr"``, ``"de"``, ``"pt_BR"``, ...): adds
        ``caption_<lang>`` (None where untranslated) and
        ``description_audio_<lang>`` (path or None) columns.
    {data_home}

    Returns
    -------
    pandas.DataFrame
        One row per stamp: ``stamp_id`` (path without extension relative to
        the stamps folder), ``image``, ``caption``, ``category`` (top
        folder, e.g. ``"animals"``), ``subcategory`` (full folder, e.g.
        ``"animals/birds"``), ``format`` (``"png"``, ``"svg"`` or
        ``"png+svg"``), ``description_audio`` (English spoken description,
        path or None), ``sound`` (sound effect, path or None), then the
        per-language columns.

    {raises}

    Examples
    --------
    >>> from skmm.datasets import load_tuxpaint
    >>> df = load_tuxpaint()  # doctest: +SKIP
    >>> len(df), df.loc[0, "caption"]  # doctest: +SKIP
    (950, 'A European coin of 1 euro (1 €).')
    >>> arrays = load_tuxpaint(images="array", size=64)  # doctest: +SKIP
    >>> arrays.loc[0, "image"].shape  # doctest: +SKIP
    (64, 64, 3)
    """
    check_choice("images", images, ("path", "array"))
    size = check_size(size)
    folder = dataset_folder("tuxpaint", data_home)
    stamps = _stamps_root(folder, data_home)
    records = json.loads((folder / "stamps.json").read_text(encoding="utf-8"))

    def stamp_path(rel: str | None) -> str | None:
        return None if rel is None else str(stamps / rel)

    paths = []
    for r in records:
        if r["png"] is not None:
            paths.append(str(stamps / r["png"]))
        elif r.get("raster"):
            paths.append(str(folder / r["raster"]))
        else:
            paths.append(str(stamps / r["svg"]))
    frame = pd.DataFrame(
        {
            "stamp_id": [r["stamp_id"] for r in records],
            "image": paths,
            "caption": [r["caption"] for r in records],
            "category": [r["category"] for r in records],
            "subcategory": [r["subcategory"] for r in records],
            "format": [r["format"] for r in records],
            "description_audio": object_column(
                [stamp_path(r["description_audio"].get("en")) for r in records]
            ),
            "sound": object_column([stamp_path(r["sound"]) for r in records]),
        }
    )
    for lang in languages:
        frame[f"caption_{lang}"] = object_column(
            [r["translations"].get(lang) for r in records]
        )
        frame[f"description_audio_{lang}"] = object_column(
            [stamp_path(r["description_audio"].get(lang)) for r in records]
        )
    if images == "array":
        arrays = _array_cache(folder, paths, frame["stamp_id"].tolist(), size)
        if background is not None:
            arrays = composite(arrays, background)
        frame["image"] = object_column(arrays)
    return frame
