"""Building the emoji data set: concepts and names from the ``emoji``
package, each style's glyphs rendered to square RGBA masters (Noto from its
bitmap font, OpenMoji from SVG with cairosvg, Twemoji from its PNG sheet),
and the per-size ``.npy`` caches that :func:`~skmm.datasets.load_emoji`
memory-maps.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from skmm.datasets._sources import Source

#: Art styles that :func:`load_emoji` knows, in row order.
STYLES: tuple[str, ...] = ("noto", "openmoji", "twemoji")

NOTO_FONT = "usr/share/fonts/truetype/noto/NotoColorEmoji.ttf"
NOTO_FONT_SIZE = 109  # the only bitmap strike of Noto Color Emoji (CBDT)
#: Side, in pixels, of the square master image kept per style.
MASTER_SIZE = {"noto": 136, "openmoji": 136, "twemoji": 64}
#: Sizes cached at fetch time (others are built on first use).
PREBUILT_SIZES = (64,)

SOURCES = (
    Source("apt", "fonts-noto-color-emoji", "OFL-1.1", NOTO_FONT),
    Source("npm", "openmoji", "CC-BY-SA-4.0", "data/openmoji.csv"),
    Source("npm", "emoji-datasource-twitter", "CC-BY-4.0", "emoji.json"),
    Source(
        "pip", "emoji", "BSD-3-Clause", "emoji/unicode_codes/emoji.json", module="emoji"
    ),
)

_SKIN_TONES = {f"{c:04X}" for c in range(0x1F3FB, 0x1F400)}
_FULLY_QUALIFIED = 2  # STATUS in the emoji package's emoji.json
_NOTDEF_PROBE = "\U0010fffd"  # a private-use codepoint no font draws


def concept_id(seq: str) -> str:
    """Canonical id of an emoji: its codepoints in hex, without ``FE0F``.

    Parameters
    ----------
    seq : str
        The emoji as a string (any qualification).

    Returns
    -------
    str

    Examples
    --------
    >>> concept_id("\\U0001F600")
    '1F600'
    >>> concept_id("#\\ufe0f\\u20e3")
    '0023-20E3'
    """
    return "-".join(f"{ord(c):04X}" for c in seq if ord(c) != 0xFE0F)


def _hex_to_str(hexcode: str) -> str:
    return "".join(chr(int(h, 16)) for h in hexcode.replace("_", "-").split("-"))


def _is_skin_tone(cid: str) -> bool:
    return any(part in _SKIN_TONES for part in cid.split("-"))


def _shortcode_to_words(code: str) -> str:
    return code.strip(":").replace("_", " ").strip()


# ---------------------------------------------------------------------------
# Metadata
# ---------------------------------------------------------------------------


def _read_concepts(roots: dict[str, Path]) -> pd.DataFrame:
    """One row per fully-qualified emoji (the concept universe)."""
    codes = roots["emoji"] / "emoji" / "unicode_codes"
    data = json.loads((codes / "emoji.json").read_text(encoding="utf-8"))
    languages = sorted(p.stem.split("_", 1)[1] for p in codes.glob("emoji_*.json"))
    translated = {
        lang: json.loads((codes / f"emoji_{lang}.json").read_text(encoding="utf-8"))
        for lang in languages
    }
    om = {}
    with open(roots["openmoji"] / "data/openmoji.csv", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            om[concept_id(row["emoji"])] = row
    tw = {}
    for row in _twemoji_rows(roots["emoji-datasource-twitter"]):
        tw[concept_id(_hex_to_str(row["unified"]))] = row

    records = []
    for seq, info in data.items():
        if info.get("status") != _FULLY_QUALIFIED:
            continue
        cid = concept_id(seq)
        o = om.get(cid, {})
        t = tw.get(cid, {})
        shortcode = info.get("en", "")
        group = o.get("group") or _slug(t.get("category", ""))
        subgroup = o.get("subgroups") or _slug(t.get("subcategory", ""))
        order = _to_float(o.get("order"), _to_float(t.get("sort_order"), 1e9))
        rec = {
            "concept_id": cid,
            "emoji": seq,
            "name": o.get("annotation") or _shortcode_to_words(shortcode),
            "keywords": o.get("tags", ""),
            "group": group or None,
            "subgroup": subgroup or None,
            "shortcode": shortcode,
            "unicode_version": float(info.get("E", np.nan)),
            "skin_tone": _is_skin_tone(cid),
            "order": order,
        }
        for lang, names in translated.items():
            rec[f"name_{lang}"] = _shortcode_to_words(names.get(seq, "")) or None
        records.append(rec)
    frame = pd.DataFrame.from_records(records)
    frame = frame.sort_values(["order", "concept_id"], kind="stable")
    return frame.drop_duplicates("concept_id").reset_index(drop=True)


def _slug(text: str) -> str:
    return text.lower().replace(" & ", "-").replace(" ", "-")


def _to_float(value: Any, default: float) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return default


def _twemoji_rows(root: Path) -> list[dict[str, Any]]:
    """Rows of emoji-datasource's ``emoji.json``, skin variations flattened."""
    rows = []
    for row in json.loads((root / "emoji.json").read_text(encoding="utf-8")):
        rows.append(row)
        for var in (row.get("skin_variations") or {}).values():
            rows.append({**row, **var, "skin_variations": None})
    return rows


# ---------------------------------------------------------------------------
# Rendering the masters
# ---------------------------------------------------------------------------


def _square_rgba(img: Any, side: int) -> Any:
    """Centre a PIL image on a transparent square canvas of ``side`` pixels."""
    from PIL import Image

    img = img.convert("RGBA")
    if img.size != (side, side):
        scale = side / max(img.size)
        if scale != 1:
            new = (max(1, round(img.width * scale)), max(1, round(img.height * scale)))
            img = img.resize(new, Image.Resampling.LANCZOS)
        canvas = Image.new("RGBA", (side, side), (0, 0, 0, 0))
        canvas.paste(img, ((side - img.width) // 2, (side - img.height) // 2))
        img = canvas
    return img


class FontRenderer:
    """Render emoji with a colour font through Pillow, detecting absent glyphs.

    A glyph is *absent* when its rendering equals the font's ``.notdef``
    rendering (empty for Noto, a box for other fonts) or when the sequence is
    laid out as several glyphs (a ZWJ sequence or flag the font lacks is drawn
    as its components side by side, so it is wider than one glyph).

    Parameters
    ----------
    font : PIL.ImageFont.FreeTypeFont
        The font (for Noto Color Emoji: size 109, its bitmap strike).
    side : int
        Side of the square output images.
    """

    def __init__(self, font: Any, side: int):
        self.font = font
        self.side = side
        self._notdef = self._draw(_NOTDEF_PROBE)
        self._notdef_width = font.getlength(_NOTDEF_PROBE)

    def _draw(self, seq: str) -> Any:
        from PIL import Image, ImageDraw

        left, top, right, bottom = self.font.getbbox(seq)
        width = max(int(np.ceil(self.font.getlength(seq))), right, 1)
        ascent, descent = self.font.getmetrics()
        height = max(ascent + descent, bottom, 1)
        img = Image.new("RGBA", (width, height), (0, 0, 0, 0))
        ImageDraw.Draw(img).text((0, 0), seq, font=self.font, embedded_color=True)
        return img

    def has_glyph(self, seq: str) -> bool:
        """Whether the font draws ``seq`` as one glyph."""
        width = self.font.getlength(seq)
        one = max(self._notdef_width, self.font.getlength(seq[0]))
        if width > 1.5 * one:
            return False
        img = self._draw(seq)
        if img.getbbox() is None:
            return False
        nd = self._notdef
        return not (img.size == nd.size and img.tobytes() == nd.tobytes())

    def render(self, seq: str) -> Any:
        """RGBA square image of ``seq`` (None when the font lacks it)."""
        if not self.has_glyph(seq):
            return None
        return _square_rgba(self._draw(seq), self.side)


def _cairosvg() -> Any:
    """Import cairosvg, or return None (it also needs the libcairo2 library)."""
    try:
        import cairosvg
    except (ImportError, OSError):
        return None
    return cairosvg


def _render_svg(path: Path, side: int, cairosvg: Any) -> Any:
    import io

    from PIL import Image

    png = cairosvg.svg2png(url=str(path), output_width=side, output_height=side)
    return _square_rgba(Image.open(io.BytesIO(png)), side)


def _build_noto(root: Path, concepts: pd.DataFrame, out: Path) -> list[str]:
    from PIL import ImageFont

    font = ImageFont.truetype(str(root / NOTO_FONT), NOTO_FONT_SIZE)
    renderer = FontRenderer(font, MASTER_SIZE["noto"])
    done = []
    for cid, seq in zip(concepts["concept_id"], concepts["emoji"]):
        img = renderer.render(seq)
        if img is not None:
            img.save(out / f"{cid}.png", compress_level=1)
            done.append(cid)
    return done


def _build_openmoji(root: Path, concepts: pd.DataFrame, out: Path) -> list[str]:
    cairosvg = _cairosvg()
    if cairosvg is None:
        raise ImportError("cairosvg")
    files = {
        concept_id(_hex_to_str(p.stem)): p
        for p in (root / "color" / "svg").glob("*.svg")
    }
    done = []
    for cid in concepts["concept_id"]:
        path = files.get(cid)
        if path is None:
            continue
        _render_svg(path, MASTER_SIZE["openmoji"], cairosvg).save(
            out / f"{cid}.png", compress_level=1
        )
        done.append(cid)
    return done


def _build_twemoji(root: Path, concepts: pd.DataFrame, out: Path) -> list[str]:
    from PIL import Image

    folder = root / "img" / "twitter" / "64"
    files = {}
    for row in _twemoji_rows(root):
        if row.get("has_img_twitter") and row.get("image"):
            files[concept_id(_hex_to_str(row["unified"]))] = folder / row["image"]
    done = []
    for cid in concepts["concept_id"]:
        path = files.get(cid)
        if path is None or not path.exists():
            continue
        with Image.open(path) as img:
            _square_rgba(img, MASTER_SIZE["twemoji"]).save(
                out / f"{cid}.png", compress_level=1
            )
        done.append(cid)
    return done


_BUILDERS: dict[str, tuple[str, Callable[[Path, pd.DataFrame, Path], list[str]]]] = {
    "noto": ("fonts-noto-color-emoji", _build_noto),
    "openmoji": ("openmoji", _build_openmoji),
    "twemoji": ("emoji-datasource-twitter", _build_twemoji),
}


def _build(
    roots: dict[str, Path], folder: Path, say: Callable[[str], None]
) -> dict[str, Any]:
    import time

    concepts = _read_concepts(roots)
    counts: dict[str, int] = {}
    skipped: dict[str, str] = {}
    seconds: dict[str, float] = {}
    for style in STYLES:
        package, builder = _BUILDERS[style]
        out = folder / "images" / style
        if out.exists():
            shutil.rmtree(out)
        out.mkdir(parents=True)
        t0 = time.perf_counter()
        try:
            done = builder(roots[package], concepts, out)
        except ImportError:
            shutil.rmtree(out)
            skipped[style] = (
                "cairosvg is not importable (pip install cairosvg; it needs the "
                "system library libcairo2)"
            )
            warnings.warn(
                f"emoji style {style!r} skipped: {skipped[style]}", stacklevel=2
            )
            concepts[f"has_{style}"] = False
            continue
        seconds[style] = round(time.perf_counter() - t0, 2)
        concepts[f"has_{style}"] = concepts["concept_id"].isin(done)
        counts[style] = len(done)
        say(f"emoji: {style}: {len(done)} glyphs rendered in {seconds[style]} s")
    concepts.to_csv(folder / "concepts.csv", index=False)
    styles = [s for s in STYLES if s in counts]
    for size in PREBUILT_SIZES:
        for style in styles:
            _size_cache(folder, style, size, write=True)
    base = ~concepts["skin_tone"]
    shared = base.copy()
    for s in ("noto", "openmoji"):
        shared &= concepts[f"has_{s}"]
    return {
        "styles": styles,
        "skipped_styles": skipped,
        "concepts": len(concepts),
        "concepts_without_skin_tones": int(base.sum()),
        "glyphs": counts,
        "glyphs_without_skin_tones": {
            s: int((concepts[f"has_{s}"] & base).sum()) for s in styles
        },
        "shared_noto_openmoji": int(shared.sum()),
        "shared_all_styles": int(
            (base & np.logical_and.reduce([concepts[f"has_{s}"] for s in STYLES])).sum()
        ),
        "render_seconds": seconds,
        "master_size": MASTER_SIZE,
    }


def _size_cache(
    folder: Path, style: str, size: int, *, write: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """(ids, RGBA images of shape (n, size, size, 4)) for one style.

    The images are cached as an uncompressed ``.npy`` file, memory-mapped on
    later calls so that only the rows asked for are read.
    """
    from PIL import Image

    path = folder / "cache" / f"{style}-{size}.npy"
    id_path = path.with_suffix(".ids.txt")
    if path.exists() and id_path.exists():
        ids = np.array(id_path.read_text().split(), dtype=str)
        images = np.load(path, mmap_mode="r")
        if len(ids) == len(images):
            return ids, images
    files = sorted((folder / "images" / style).glob("*.png"))
    ids = np.array([p.stem for p in files], dtype=str)
    images = np.zeros((len(files), size, size, 4), dtype=np.uint8)
    for i, p in enumerate(files):
        with Image.open(p) as img:
            img = img.convert("RGBA")
            if img.size != (size, size):
                img = img.resize((size, size), Image.Resampling.LANCZOS)
            images[i] = np.asarray(img)
    if write:
        try:
            path.parent.mkdir(exist_ok=True)
            id_path.write_text("\n".join(ids.tolist()))
            tmp = path.with_name(f".{path.stem}.{os.getpid()}.npy")
            np.save(tmp, images)
            os.replace(tmp, path)
        except OSError:  # read-only data home: keep the arrays in memory only
            pass
    return ids, images
