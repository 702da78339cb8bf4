"""The plugin registries, with a real (tiny) installed plugin distribution."""

from __future__ import annotations

import sys
import textwrap

import pytest

from skmm.registry import PluginWarning, Registry, encoders, fusions


@pytest.fixture
def plugin_dist(tmp_path, monkeypatch):
    """A distribution `skmm-fake-plugin` on sys.path with entry points."""
    (tmp_path / "skmm_fake_plugin.py").write_text(
        textwrap.dedent(
            """
            from skmm.text import TfidfTextEncoder

            class ShoutEncoder(TfidfTextEncoder):
                pass

            class Bilinear:
                pass
            """
        )
    )
    info = tmp_path / "skmm_fake_plugin-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: skmm-fake-plugin\nVersion: 0.1\n"
    )
    (info / "entry_points.txt").write_text(
        textwrap.dedent(
            """
            [skmm.encoders]
            shout = skmm_fake_plugin:ShoutEncoder
            tfidf = skmm_fake_plugin:ShoutEncoder
            broken = skmm_fake_plugin_missing_module:Nope

            [skmm.fusions]
            bilinear = skmm_fake_plugin:Bilinear
            """
        )
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    yield
    monkeypatch.undo()
    sys.modules.pop("skmm_fake_plugin", None)
    encoders.refresh()
    fusions.refresh()


def _refresh(reg):
    with pytest.warns(PluginWarning) as record:
        reg.refresh()
    return [str(w.message) for w in record]


def test_plugin_is_registered_and_usable(plugin_dist):
    messages = _refresh(encoders)
    assert "shout" in encoders
    assert encoders.source("shout") == "skmm-fake-plugin"
    enc = encoders.create("shout", n_components=2)
    assert type(enc).__name__ == "ShoutEncoder"
    # a plugin cannot take over a built-in name: warned and ignored
    assert any("'tfidf'" in m and "ignored" in m for m in messages)
    assert encoders.get("tfidf").__module__ == "skmm.text._tfidf"
    # a plugin that fails to import warns, and fails only when asked for
    assert any("'broken'" in m and "failed to import" in m for m in messages)
    assert "broken" not in encoders.names()
    with pytest.raises(ImportError, match="failed to import"):
        encoders.get("broken")
    fusions.refresh()
    assert "bilinear" in fusions


def test_refresh_without_plugin_forgets_it(plugin_dist, monkeypatch):
    _refresh(encoders)
    monkeypatch.undo()
    encoders.refresh()
    assert "shout" not in encoders


def test_unknown_name_lists_known_ones():
    with pytest.raises(
        ValueError, match=r"Unknown encoder 'nope'. Known encoders: \[.*'tfidf'"
    ):
        encoders.get("nope")


def test_register_decorator_duplicate_and_overwrite():
    reg = Registry("widget", "skmm.no_such_group", {"a": "skmm.text:TfidfTextEncoder"})

    @reg.register("b", defaults={"x": 1})
    def make(x=0):
        return x

    assert reg.create("b") == 1 and reg.create("b", x=5) == 5
    with pytest.raises(ValueError, match="already registered"):
        reg.register("a", make)
    reg.register("a", make, overwrite=True)
    assert reg.get("a") is make
    reg.unregister("a")
    assert reg.names() == ["b"]


def test_presets_carry_defaults():
    assert encoders.defaults("minilm") == {"model": "minilm"}
    assert encoders.create("minilm").model == "minilm"  # nothing loaded yet
