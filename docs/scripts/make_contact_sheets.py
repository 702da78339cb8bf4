"""Draw a contact sheet (a PNG) of each real data set for docs/datasets.md.

The pictures are generated, never committed (``docs/img/generated/`` is
ignored by git).  Fetch the data first, then run from the repository root::

    python -m skmm.datasets fetch all
    python docs/scripts/make_contact_sheets.py            # all three
    python docs/scripts/make_contact_sheets.py emoji      # one of them

Options: ``--out DIR`` (default ``docs/img/generated``), ``--data-home DIR``,
``--seed N``.  A data set that has not been fetched is skipped with a note.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from skmm.datasets import (
    DataNotFoundError,
    load_emoji,
    load_multiple_features,
    load_tuxpaint,
)

OUT = Path(__file__).resolve().parents[1] / "img" / "generated"
BG = (255, 255, 255)
INK = (40, 40, 40)


def _font(size: int) -> Any:
    """DejaVu Sans when the system has it (wide Unicode coverage), else Pillow's."""
    for path in (
        "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
        "/Library/Fonts/Arial Unicode.ttf",
    ):
        if Path(path).exists():
            return ImageFont.truetype(path, size)
    return ImageFont.load_default(size=size)


def _wrap(draw: ImageDraw.ImageDraw, text: str, font: Any, width: int) -> list[str]:
    lines: list[str] = []
    line = ""
    for word in text.split():
        trial = f"{line} {word}".strip()
        if draw.textlength(trial, font=font) <= width or not line:
            line = trial
        else:
            lines.append(line)
            line = word
    if line:
        lines.append(line)
    return lines


def _label(
    draw: ImageDraw.ImageDraw,
    xy: tuple[int, int],
    text: str,
    width: int,
    font: Any,
    max_lines: int = 2,
) -> None:
    lines = _wrap(draw, text, font, width)
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = lines[-1][: max(1, len(lines[-1]) - 1)] + "…"
    x, y = xy
    for i, line in enumerate(lines):
        w = draw.textlength(line, font=font)
        draw.text(
            (x + (width - w) / 2, y + i * (font.size + 2)), line, fill=INK, font=font
        )


def emoji_sheet(data_home: str | None, seed: int) -> Image.Image:
    """Rows of concepts, one column per art style, with names and groups."""
    styles = ("noto", "openmoji", "twemoji")
    df = load_emoji(styles, size=96, data_home=data_home)
    rng = np.random.default_rng(seed)
    concepts = df.drop_duplicates("concept_id")
    # two concepts from each of the nine Unicode groups
    picks = []
    for _, grp in concepts.groupby("group", sort=True):
        picks.extend(rng.choice(grp["concept_id"].to_numpy(), size=2, replace=False))
    picks = picks[:18]
    cell, label_w, pad = 96, 230, 8
    n_cols = 2  # two blocks side by side
    per_col = (len(picks) + n_cols - 1) // n_cols
    block_w = label_w + len(styles) * (cell + pad) + 2 * pad
    header = 34
    sheet = Image.new(
        "RGB", (n_cols * block_w, header + per_col * (cell + pad) + pad), BG
    )
    draw = ImageDraw.Draw(sheet)
    small, big = _font(14), _font(16)
    for b in range(n_cols):
        x0 = b * block_w
        for j, style in enumerate(styles):
            x = x0 + label_w + j * (cell + pad)
            w = draw.textlength(style, font=big)
            draw.text((x + (cell - w) / 2, 8), style, fill=INK, font=big)
    for i, cid in enumerate(picks):
        b, r = divmod(i, per_col)
        x0, y0 = b * block_w, header + r * (cell + pad)
        rows = df[df["concept_id"] == cid].set_index("style")
        first = rows.iloc[0]
        _label(draw, (x0 + pad, y0 + 28), first["name"], label_w - 2 * pad, big)
        _label(draw, (x0 + pad, y0 + 66), first["group"], label_w - 2 * pad, small, 1)
        for j, style in enumerate(styles):
            img = Image.fromarray(rows.loc[style, "image"])
            sheet.paste(img, (x0 + label_w + j * (cell + pad), y0))
    return sheet


def tuxpaint_sheet(data_home: str | None, seed: int) -> Image.Image:
    """A grid of stamps with their captions and categories."""
    df = load_tuxpaint(images="array", size=128, data_home=data_home)
    rng = np.random.default_rng(seed)
    # spread the picks over categories, favour stamps with audio
    picks = []
    for _, grp in df.groupby("category", sort=True):
        picks.append(int(rng.choice(grp.index.to_numpy())))
    spoken = df.index[df["description_audio"].notna()].to_numpy()
    extra = rng.choice(np.setdiff1d(spoken, picks), size=24 - len(picks), replace=False)
    picks = [*picks, *map(int, extra)][:24]
    cols, cell, cap_h, pad = 6, 128, 56, 10
    rows = (len(picks) + cols - 1) // cols
    sheet = Image.new("RGB", (cols * (cell + 2 * pad), rows * (cell + cap_h + pad)), BG)
    draw = ImageDraw.Draw(sheet)
    small, tiny = _font(13), _font(11)
    for k, idx in enumerate(picks):
        r, c = divmod(k, cols)
        x, y = c * (cell + 2 * pad) + pad, r * (cell + cap_h + pad) + pad
        sheet.paste(Image.fromarray(df.loc[idx, "image"]), (x, y))
        _label(
            draw,
            (x - pad + 2, y + cell + 2),
            df.loc[idx, "caption"],
            cell + 2 * pad - 4,
            small,
        )
        tag = df.loc[idx, "category"]
        if df.loc[idx, "description_audio"] is not None:
            tag += " · speech"
        if df.loc[idx, "sound"] is not None:
            tag += " · sound"
        _label(draw, (x - pad + 2, y + cell + 34), tag, cell + 2 * pad - 4, tiny, 1)
    return sheet


def multiple_features_sheet(data_home: str | None, seed: int) -> Image.Image:
    """Ten digits per class from the ``pix`` view (240 values = 16 × 15)."""
    mf = load_multiple_features(data_home=data_home)
    pix = mf.data[mf.modalities["pix"]].to_numpy()
    y = mf.target.to_numpy()
    rng = np.random.default_rng(seed)
    scale, pad, n = 4, 6, 12
    h, w = 16 * scale, 15 * scale
    sheet = Image.new("RGB", (40 + n * (w + pad), 10 * (h + pad) + pad), BG)
    draw = ImageDraw.Draw(sheet)
    font = _font(20)
    for digit in range(10):
        idx = rng.choice(np.flatnonzero(y == digit), size=n, replace=False)
        yy = pad + digit * (h + pad)
        draw.text((10, yy + h / 2 - 10), str(digit), fill=INK, font=font)
        for k, i in enumerate(idx):
            img = (
                (255 - pix[i].reshape(16, 15) / 6.0 * 255).clip(0, 255).astype(np.uint8)
            )
            tile = Image.fromarray(img).resize((w, h), Image.Resampling.NEAREST)
            sheet.paste(tile, (40 + k * (w + pad), yy))
    return sheet


SHEETS = {
    "emoji": emoji_sheet,
    "tuxpaint": tuxpaint_sheet,
    "multiple_features": multiple_features_sheet,
}


def main(argv: list[str] | None = None) -> int:
    """Write ``<out>/<name>.png`` for each requested data set."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help=f"among {list(SHEETS)} (default all)")
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--data-home", default=None)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    unknown = sorted(set(args.names) - set(SHEETS))
    if unknown:
        parser.error(f"unknown data sets {unknown}; choose among {list(SHEETS)}")
    args.out.mkdir(parents=True, exist_ok=True)
    status = 0
    for name in args.names or list(SHEETS):
        try:
            sheet = SHEETS[name](args.data_home, args.seed)
        except DataNotFoundError as exc:
            print(f"skipped {name}: {exc.args[0].splitlines()[0]}", file=sys.stderr)
            status = 1
            continue
        path = args.out / f"{name}.png"
        sheet.save(path, optimize=True)
        print(f"wrote {path} ({sheet.width}x{sheet.height})")
    return status


if __name__ == "__main__":
    sys.exit(main())
