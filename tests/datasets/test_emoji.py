"""load_emoji on fixture packages, and on the real sources when fetched."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import ImageFont

import skmm.datasets as skd
from skmm.datasets import _emoji_build
from skmm.datasets._base import read_manifest

pytestmark = pytest.mark.filterwarnings("ignore:emoji style:UserWarning")

needs_cairosvg = pytest.mark.skipif(
    _emoji_build._cairosvg() is None, reason="OpenMoji rendering needs cairosvg"
)


@pytest.fixture
def built(emoji_home):
    skd.fetch("emoji", verbose=False)
    return emoji_home


def test_concept_id():
    assert _emoji_build.concept_id("\U0001f600") == "1F600"
    assert _emoji_build.concept_id("#\ufe0f\u20e3") == "0023-20E3"
    assert _emoji_build.concept_id("\u2764\ufe0f\u200d\U0001f525") == "2764-200D-1F525"


def test_font_renderer_detects_absent_glyphs():
    font = ImageFont.load_default(size=20)
    r = _emoji_build.FontRenderer(font, 32)
    assert r.has_glyph("A")
    assert not r.has_glyph("\U0001f600")  # drawn as the .notdef box
    assert not r.has_glyph("C\u200dD")  # a ZWJ sequence laid out as 2 glyphs
    img = r.render("A")
    assert img.size == (32, 32) and img.mode == "RGBA"
    assert r.render("\U0001f600") is None


def test_manifest_counts(built):
    m = read_manifest(built / "emoji")
    assert m["concepts"] == 6  # fully-qualified only; component excluded
    assert m["concepts_without_skin_tones"] == 5
    assert m["glyphs"]["noto"] == 2
    assert m["glyphs"]["twemoji"] == 3
    assert m["sources"]["openmoji"]["version"] == "17.0.0"
    assert m["sources"]["emoji"]["version"] == "9.9.9"
    assert m["sources"]["fonts-noto-color-emoji"]["license"] == "OFL-1.1"
    if _emoji_build._cairosvg() is not None:
        assert m["glyphs"]["openmoji"] == 5
        assert m["shared_noto_openmoji"] == 2
        assert m["shared_all_styles"] == 1


def test_load_noto_twemoji(built):
    df = skd.load_emoji(("noto", "twemoji"), size=16)
    # shared, no skin tones: only "A"
    assert df["concept_id"].tolist() == ["0041", "0041"]
    assert df["style"].tolist() == ["noto", "twemoji"]
    img = df.loc[1, "image"]
    assert img.shape == (16, 16, 3) and img.dtype == np.uint8
    assert img[8, 8].tolist() == [255, 0, 0]  # the red Twemoji fixture
    row = df.loc[0]
    assert row["name"] == "letter a"
    assert row["keywords"] == "a, letter"
    assert (row["group"], row["subgroup"]) == ("symbols", "alphanum")
    assert row["shortcode"] == ":letter_a:"
    assert row["emoji"] == "A"


def test_load_all_concepts_and_order(built):
    df = skd.load_emoji("twemoji", concepts="all", size=8, background=None)
    # Unicode order (openmoji.csv "order"), the keycap id without FE0F
    assert df["concept_id"].tolist() == ["1F600", "0041", "0023-20E3"]
    assert df.loc[0, "image"].shape == (8, 8, 4)
    keycap = df.loc[2, "image"]
    assert keycap[4, 4, 3] == 128  # alpha kept with background=None
    assert df.loc[0, "group"] == "smileys-emotion"


def test_background_colour(built):
    df = skd.load_emoji("twemoji", concepts="all", size=8, background=(0, 0, 0))
    keycap = df.set_index("concept_id").loc["0023-20E3", "image"]
    assert keycap[4, 4].tolist() == [0, 128, 0]
    # the 60x64 face is centred: transparent margins composite to black
    face = skd.load_emoji("twemoji", concepts="all", size=64, background=(0, 0, 0))
    assert face.loc[0, "image"][32, 0].tolist() == [0, 0, 0]


def test_languages(built):
    df = skd.load_emoji("twemoji", concepts="all", languages=("fr",))
    names = dict(zip(df["concept_id"], df["name_fr"]))
    assert names["0041"] == "lettre a"
    assert names["1F600"] == "visage souriant"
    assert names["0023-20E3"] is None or names["0023-20E3"] != names["0023-20E3"]
    with pytest.raises(ValueError, match="Unknown language"):
        skd.load_emoji("twemoji", languages=("xx",))


def test_size_cache_written_and_reused(built):
    cache = built / "emoji" / "cache"
    assert (cache / "noto-64.npy").exists()  # prebuilt at fetch time
    assert not (cache / "noto-24.npy").exists()
    a = skd.load_emoji(("noto", "twemoji"), size=24)
    assert (cache / "noto-24.npy").exists()
    b = skd.load_emoji(("noto", "twemoji"), size=24)
    np.testing.assert_array_equal(a.loc[0, "image"], b.loc[0, "image"])


@needs_cairosvg
def test_load_default_styles(built):
    df = skd.load_emoji()
    assert df.groupby("style").size().to_dict() == {"noto": 2, "openmoji": 2}
    assert df["concept_id"].tolist() == ["0041"] * 2 + ["0042"] * 2
    assert list(df.columns[:3]) == ["concept_id", "style", "image"]
    blue = df.loc[3, "image"]
    assert blue.shape == (64, 64, 3)
    assert blue[32, 32].tolist() == [0, 0, 255]
    assert blue[0, 0].tolist() == [255, 255, 255]


@needs_cairosvg
def test_skin_tones(built):
    df = skd.load_emoji("openmoji", include_skin_tones=True)
    assert "0045-1F3FB" in set(df["concept_id"])
    df = skd.load_emoji("openmoji")
    assert "0045-1F3FB" not in set(df["concept_id"])


def test_style_skipped_without_cairosvg(monkeypatch, emoji_home):
    monkeypatch.setattr(_emoji_build, "_cairosvg", lambda: None)
    with pytest.warns(UserWarning, match="cairosvg"):
        skd.fetch("emoji", verbose=False)
    m = read_manifest(emoji_home / "emoji")
    assert m["styles"] == ["noto", "twemoji"]
    with pytest.raises(skd.DataNotFoundError, match="cairosvg"):
        skd.load_emoji(("noto", "openmoji"))
    assert len(skd.load_emoji(("noto", "twemoji"))) == 2


def test_argument_validation(built):
    with pytest.raises(ValueError, match="styles"):
        skd.load_emoji(("noto", "apple"))
    with pytest.raises(ValueError, match="concepts"):
        skd.load_emoji(concepts="some")
    with pytest.raises(ValueError, match="size"):
        skd.load_emoji(size=0)


@pytest.mark.data
def test_real_emoji():
    try:
        df = skd.load_emoji(("noto", "openmoji"))
    except skd.DataNotFoundError:
        pytest.skip("emoji data set not fetched")
    counts = df.groupby("style").size()
    assert counts["noto"] == counts["openmoji"] >= 1800
    assert df["image"].map(lambda a: a.shape == (64, 64, 3)).all()
    first = df.iloc[0]
    assert (first["concept_id"], first["name"]) == ("1F600", "grinning face")
    assert "smile" in first["keywords"]
    assert df["group"].nunique() >= 9
    assert df["name"].notna().all() and (df["keywords"] != "").mean() > 0.99
    # no skin tones by default
    assert not df["concept_id"].str.contains("1F3F[B-F]").any()
    # glyphs differ between styles: the art is not the same picture
    a, b = df.loc[0, "image"], df.loc[1, "image"]
    assert np.abs(a.astype(int) - b.astype(int)).mean() > 5
