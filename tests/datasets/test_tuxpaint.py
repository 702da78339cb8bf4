"""load_tuxpaint on a fixture package, and on the real stamps when fetched."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import skmm.datasets as skd
from skmm.datasets import _emoji_build, _tuxpaint
from skmm.datasets._base import read_manifest

HAS_CAIROSVG = _emoji_build._cairosvg() is not None


@pytest.fixture
def built(tuxpaint_home):
    skd.fetch("tuxpaint", verbose=False)
    return tuxpaint_home


def test_parse_caption():
    caption, tr = _tuxpaint._parse_caption(
        "\ufeffA dog.\n\nfr.utf8=Un chien.\npt_BR.utf8=Um cão.\nsr@latin.utf8=Pas.\n"
    )
    assert caption == "A dog."
    assert tr == {"fr": "Un chien.", "pt_BR": "Um cão.", "sr@latin": "Pas."}


def test_expand_entities():
    svg = (
        b'<!DOCTYPE svg [\n<!ENTITY ns_svg "http://www.w3.org/2000/svg">\n'
        b'<!ENTITY ns_x \'urn:x\'>]>\n<svg xmlns="&ns_svg;" a="&ns_x;"/>'
    )
    out = _tuxpaint._expand_entities(svg)
    assert b"DOCTYPE" not in out
    assert b'xmlns="http://www.w3.org/2000/svg"' in out and b'a="urn:x"' in out
    plain = b"<svg/>"
    assert _tuxpaint._expand_entities(plain) == plain


def test_manifest(built):
    m = read_manifest(built / "tuxpaint")
    assert m["stamps"] == 4  # gift has no image, car_mirror no caption
    assert (m["png"], m["svg"], m["svg_only"]) == (2, 3, 2)
    assert m["with_description_audio_en"] == 1
    assert m["with_sound"] == 1
    assert m["categories"] == ["animals", "symbols", "vehicles"]
    assert m["languages"] == ["de", "fr"]
    assert m["sources"]["tuxpaint-stamps-default"]["license"] == "GPL-2.0-or-later"


def test_load_paths(built):
    df = skd.load_tuxpaint()
    assert list(df.columns) == [
        "stamp_id",
        "image",
        "caption",
        "category",
        "subcategory",
        "format",
        "description_audio",
        "sound",
    ]
    df = df.set_index("stamp_id")
    assert list(df.index) == [
        "animals/birds/blackbird",
        "animals/cat",
        "symbols/flag",
        "vehicles/car",
    ]
    bird = df.loc["animals/birds/blackbird"]
    assert bird["caption"] == "A blackbird."
    assert (bird["category"], bird["subcategory"]) == ("animals", "animals/birds")
    assert bird["image"].endswith("stamps/animals/birds/blackbird.png")
    assert Path(bird["image"]).exists()
    assert bird["description_audio"].endswith("blackbird_desc.ogg")
    assert bird["sound"].endswith("blackbird.ogg")
    car = df.loc["vehicles/car"]
    assert car["format"] == "png+svg" and car["image"].endswith("car.png")
    assert car["caption"] == "A car."  # the BOM is dropped
    assert car["description_audio"] is None and car["sound"] is None
    cat = df.loc["animals/cat"]
    assert cat["format"] == "svg"
    if HAS_CAIROSVG:
        assert cat["image"].endswith("raster/animals/cat.png")
        assert Path(cat["image"]).exists()
    else:
        assert cat["image"].endswith("cat.svg")


def test_languages(built):
    df = skd.load_tuxpaint(languages=("fr", "pt_BR")).set_index("stamp_id")
    assert df.loc["animals/birds/blackbird", "caption_fr"] == "Un merle."
    assert df.loc["animals/cat", "caption_fr"] == "Un chat."
    assert df.loc["vehicles/car", "caption_fr"] is None
    assert df.loc["animals/birds/blackbird", "description_audio_fr"].endswith(
        "blackbird_desc_fr.ogg"
    )
    assert df.loc["animals/cat", "description_audio_fr"] is None


@pytest.mark.skipif(not HAS_CAIROSVG, reason="SVG stamps need cairosvg")
def test_load_arrays(built):
    df = skd.load_tuxpaint(images="array", size=32).set_index("stamp_id")
    bird = df.loc["animals/birds/blackbird", "image"]
    assert bird.shape == (32, 32, 3) and bird.dtype == np.uint8
    # 40x20 black image fitted into the square, centred on white
    assert bird[16, 16].tolist() == [0, 0, 0]
    assert bird[2, 16].tolist() == [255, 255, 255]
    flag = df.loc["symbols/flag", "image"]  # Illustrator SVG with entities
    assert flag[16, 16].tolist() == [255, 0, 0]
    rgba = skd.load_tuxpaint(images="array", size=32, background=None)
    assert rgba.loc[0, "image"].shape == (32, 32, 4)
    assert (built / "tuxpaint" / "cache" / "images-32.npz").exists()


def test_svg_kept_without_cairosvg(monkeypatch, tuxpaint_home):
    monkeypatch.setattr(_emoji_build, "_cairosvg", lambda: None)
    skd.fetch("tuxpaint", verbose=False)
    df = skd.load_tuxpaint().set_index("stamp_id")
    assert df.loc["animals/cat", "image"].endswith("cat.svg")
    with pytest.raises(skd.DataNotFoundError, match="cairosvg"):
        skd.load_tuxpaint(images="array")


def test_sources_moved(built, tmp_path):
    """Stamps are found in the data home even when the manifest root is stale."""
    import json

    path = built / "tuxpaint" / "manifest.json"
    m = json.loads(path.read_text())
    m["sources"]["tuxpaint-stamps-default"]["root"] = str(tmp_path / "gone")
    path.write_text(json.dumps(m))
    assert len(skd.load_tuxpaint()) == 4


def test_argument_validation(built):
    with pytest.raises(ValueError, match="images"):
        skd.load_tuxpaint(images="pil")
    with pytest.raises(ValueError, match="size"):
        skd.load_tuxpaint(images="array", size=0)


@pytest.mark.data
def test_real_tuxpaint():
    try:
        df = skd.load_tuxpaint(languages=("fr",))
    except skd.DataNotFoundError:
        pytest.skip("tuxpaint data set not fetched")
    assert len(df) >= 900
    assert df["caption"].str.len().gt(0).all()
    assert df["category"].nunique() >= 10
    assert df["image"].map(lambda p: Path(p).suffix == ".png").mean() > 0.99
    assert df["description_audio"].notna().sum() >= 50
    assert df["sound"].notna().sum() >= 100
    assert df["caption_fr"].notna().mean() > 0.8
    sample = df["image"].iloc[::100].map(lambda p: Path(p).exists())
    assert sample.all()
