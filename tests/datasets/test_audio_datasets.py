"""load_tuxpaint_audio and load_spoken_emoji on fixture packages, and on the
real data when fetched."""

from __future__ import annotations

import wave
from pathlib import Path

import pytest

import skmm.datasets as skd
from skmm.datasets import _spoken_emoji
from skmm.datasets._base import read_manifest

# ----------------------------------------------------------------- tuxpaint


@pytest.fixture
def tux_built(tuxpaint_home):
    skd.fetch("tuxpaint", verbose=False)
    return tuxpaint_home


def test_tuxpaint_speech(tux_built):
    df = skd.load_tuxpaint_audio("speech")
    assert df.columns.tolist() == [
        "stamp_id",
        "audio",
        "caption",
        "image",
        "category",
        "subcategory",
    ]
    assert df["stamp_id"].tolist() == ["animals/birds/blackbird"]
    assert df.loc[0, "audio"].endswith("blackbird_desc.ogg")
    assert df.loc[0, "caption"] == "A blackbird."
    assert df.loc[0, "image"].endswith("blackbird.png")


def test_tuxpaint_effects(tux_built):
    df = skd.load_tuxpaint_audio("effects")
    # gift.ogg has no stamp image: only the blackbird's sound is paired
    assert df["stamp_id"].tolist() == ["animals/birds/blackbird"]
    assert df.loc[0, "audio"].endswith("stamps/animals/birds/blackbird.ogg")
    assert Path(df.loc[0, "audio"]).exists()


def test_tuxpaint_speech_language(tux_built):
    fr = skd.load_tuxpaint_audio("speech", language="fr")
    assert fr.loc[0, "audio"].endswith("blackbird_desc_fr.ogg")
    assert (fr.loc[0, "caption"], fr.loc[0, "caption_en"]) == (
        "Un merle.",
        "A blackbird.",
    )
    # de: a translated caption but no German recording
    assert skd.load_tuxpaint_audio("speech", language="de").empty
    assert skd.load_tuxpaint_audio("effects", language="fr").shape[0] == 1


def test_tuxpaint_audio_arguments(tux_built):
    with pytest.raises(ValueError, match="kind must be one of"):
        skd.load_tuxpaint_audio("music")
    with pytest.raises(ValueError, match="language"):
        skd.load_tuxpaint_audio("speech", language="")


def test_tuxpaint_audio_not_fetched():
    with pytest.raises(skd.DataNotFoundError, match="tuxpaint"):
        skd.load_tuxpaint_audio()


# ------------------------------------------------------------ spoken emoji


@pytest.fixture
def spoken_home(emoji_home, fx):
    fx.espeak_sources(emoji_home / "downloads")
    return emoji_home


def test_spoken_emoji_build(spoken_home):
    skd.fetch("spoken_emoji", verbose=False)  # builds the emoji data set first
    assert (spoken_home / "emoji" / "manifest.json").exists()
    m = read_manifest(spoken_home / "spoken_emoji")
    concepts = skd.load_emoji(("noto",), concepts="all")["concept_id"].nunique()
    n = m["concepts"]
    assert n >= concepts  # every drawn concept without a skin tone
    assert m["clips"] == 2 * n and m["takes_per_concept"] == 2
    assert m["sampling_rate"] == 22050 and m["failed"] == []
    assert m["sources"]["libsonic0"]["license"] == "Apache-2.0"

    df = skd.load_spoken_emoji()
    assert df.columns.tolist() == [
        "clip_id",
        "audio",
        "concept_id",
        "name",
        "group",
        "voice",
        "speed",
        "take",
        "duration",
    ]
    assert len(df) == 2 * n
    # two takes per concept, each in a different voice
    per = df.groupby("concept_id")["voice"].nunique()
    assert (per == 2).all()
    assert set(df["voice"]) <= set(_spoken_emoji.VOICES)
    assert set(df["speed"]) <= set(_spoken_emoji.SPEEDS)
    face = df[df["concept_id"] == "1F600"].iloc[0]
    assert face["name"] == "grinning face"
    with wave.open(face["audio"], "rb") as w:
        seconds = w.getnframes() / w.getframerate()
    assert seconds == pytest.approx(face["duration"])
    # joinable with load_emoji on concept_id
    joined = df.merge(skd.load_emoji(("noto",)), on="concept_id")
    assert (joined["name_x"] == joined["name_y"]).all() and len(joined) > 0


def test_spoken_emoji_deterministic_and_voices(spoken_home):
    skd.fetch("spoken_emoji", verbose=False)
    first = skd.load_spoken_emoji()
    skd.fetch("spoken_emoji", force=True, verbose=False)
    again = skd.load_spoken_emoji()
    assert first[["clip_id", "voice", "speed"]].equals(
        again[["clip_id", "voice", "speed"]]
    )
    one = skd.load_spoken_emoji(voices="en-gb+f2")
    assert set(one["voice"]) == {"en-gb+f2"} and 0 < len(one) < len(first)
    with pytest.raises(ValueError, match="Unknown voice"):
        skd.load_spoken_emoji(voices=["klingon"])


def test_spoken_emoji_failed_clip_recorded(spoken_home, monkeypatch):
    real = _spoken_emoji._plan

    def plan(concepts):
        out = real(concepts)
        out.loc[0, "name"] = "FAIL"
        return out

    monkeypatch.setattr(_spoken_emoji, "_plan", plan)
    skd.fetch("spoken_emoji", verbose=False)
    m = read_manifest(spoken_home / "spoken_emoji")
    assert len(m["failed"]) == 1 and "cannot speak FAIL" in m["failed"][0]
    assert len(skd.load_spoken_emoji()) == m["clips"] == 2 * m["concepts"] - 1


def test_spoken_emoji_not_fetched():
    with pytest.raises(skd.DataNotFoundError, match="spoken_emoji"):
        skd.load_spoken_emoji()


@pytest.mark.data
def test_real_tuxpaint_audio():
    try:
        speech = skd.load_tuxpaint_audio("speech")
        effects = skd.load_tuxpaint_audio("effects")
    except skd.DataNotFoundError:
        pytest.skip("tuxpaint data set not fetched")
    assert (len(speech), len(effects)) == (65, 134)
    assert speech["audio"].map(lambda p: Path(p).exists()).all()
    assert effects["caption"].str.len().gt(0).all()


@pytest.mark.data
def test_real_spoken_emoji():
    try:
        df = skd.load_spoken_emoji()
    except skd.DataNotFoundError:
        pytest.skip("spoken_emoji data set not fetched")
    assert 3000 <= len(df) <= 4000
    assert df["voice"].nunique() == 4 and df["speed"].nunique() == 3
    assert df["duration"].between(0.2, 10).all()
    assert Path(df.loc[0, "audio"]).exists()
