"""Report.add_audio: the clip beside the page, a player per clip, escaped."""

from __future__ import annotations

import wave

import numpy as np
import pytest

from skmm.report import Report


def test_audio_file_copied_and_played(tmp_path):
    clip = tmp_path / "src" / 'say "hi" & <go>.ogg'
    clip.parent.mkdir()
    clip.write_bytes(b"OggS fake")
    report = Report(tmp_path / "report")
    report.add_audio(clip, "Spoken: *a frog* <b>")
    html = report.write().read_text()
    rel = "figures/say%20%22hi%22%20%26%20%3Cgo%3E.ogg"
    assert f'<source src="{rel}" type="audio/ogg">' in html
    assert '<audio controls preload="metadata"' in html
    assert "<figcaption>Spoken: <em>a frog</em> &lt;b&gt;</figcaption>" in html
    assert "<b>" not in html
    copied = tmp_path / "report" / "figures" / clip.name
    assert copied.read_bytes() == b"OggS fake"
    # the same file again is referenced, not copied twice
    report.add_audio(clip)
    assert report.sections[-1].count(rel) == 2
    assert sorted(p.name for p in copied.parent.iterdir()) == [clip.name]


def test_audio_waveform_written_as_wav(tmp_path):
    rate = 8000
    tone = 0.5 * np.sin(2 * np.pi * 440 * np.arange(rate) / rate)
    report = Report(tmp_path)
    report.add_audio(tone, rate=rate, alt="a tone").add_audio(tone[:100], rate=rate)
    assert 'src="figures/audio-1.wav"' in report.sections[0]
    assert 'title="a tone"' in report.sections[0]
    assert "figcaption" not in report.sections[0]
    assert 'src="figures/audio-2.wav"' in report.sections[1]
    with wave.open(str(tmp_path / "figures" / "audio-1.wav"), "rb") as w:
        assert (w.getframerate(), w.getnchannels(), w.getnframes()) == (rate, 1, rate)
        pcm = np.frombuffer(w.readframes(rate), dtype="<i2")
    assert np.abs(pcm / 32767 - tone).max() < 1e-4


def test_audio_errors(tmp_path):
    report = Report(tmp_path)
    with pytest.raises(ValueError, match="not an audio file a browser plays"):
        report.add_audio(tmp_path / "notes.txt")
    with pytest.raises(FileNotFoundError, match="missing.wav"):
        report.add_audio(tmp_path / "missing.wav")
    with pytest.raises(ValueError, match="rate must be a positive integer"):
        report.add_audio(np.zeros(10))
    with pytest.raises(ValueError, match="1-D array of finite samples"):
        report.add_audio(np.zeros((2, 10)), rate=8000)
    with pytest.raises(ValueError, match="1-D array of finite samples"):
        report.add_audio([0.0, np.nan], rate=8000)
    assert report.sections == []
