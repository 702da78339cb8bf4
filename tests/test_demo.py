"""The main job end to end on real data (a small sample), and its report
rendered in a headless Chromium."""

from __future__ import annotations

import numpy as np
import pytest

from tests.report.test_report_renders import _browser_errors, _open, browser  # noqa: F401


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    import skmm.datasets as skd

    try:
        skd.load_emoji(("noto", "openmoji"))
    except skd.DataNotFoundError:
        pytest.skip("emoji data set not fetched (skmm datasets fetch emoji)")
    from skmm.demo import run_demo

    out = tmp_path_factory.mktemp("demo")
    return run_demo(quick=True, n=40, out=out, seed=0), out


@pytest.mark.slow
@pytest.mark.data
def test_demo_prints_both_tables_and_writes_the_report(demo_run, capsys):
    result, out = demo_run
    retrieval = result["retrieval"]
    assert list(retrieval.index) == [
        "Ridge",
        "CCA",
        "PLS",
        "Contrastive",
        "TwoTower (fine-tuned)",
    ]
    for col in ("t->i R@1", "t->i R@5", "t->i R@10", "i->t R@1", "i->t R@10"):
        values = retrieval[col].to_numpy()
        assert ((values >= 0) & (values <= 1)).all()
    # with 20 test concepts, chance R@10 is 0.5: the retrievers are better
    assert retrieval["t->i R@10"].max() > 0.5
    comparison = result["comparison"]
    assert len(comparison) == 5 and comparison.index[0] == comparison.attrs["best"]
    assert any("fine-tuned" in str(i) for i in comparison.index)
    verdict = result["verdict"]  # printed in the summary and on the page
    assert "retrieval winner" in verdict and "classification winner" in verdict
    assert "fine-tuned two-tower" in verdict
    assert np.isnan(comparison["p_value"].iloc[0])
    search = result["search"]
    assert len(search.cv_results_["params"]) == 4
    audio = result["audio"]  # spoken queries, or why they were skipped
    assert "skipped" in audio or len(audio["queries"]) == 4
    for name in (
        "index.html",
        "retrieval_gallery.png",
        "compare_models.png",
        "search_history.png",
        "search.db",
    ):
        assert (out / name).exists(), name


@pytest.mark.slow
@pytest.mark.data
def test_demo_report_renders(demo_run, browser):  # noqa: F811
    from PIL import Image

    _, out = demo_run
    images = _open(browser, out / "index.html")
    assert len(images) >= 4
    for img in images:
        assert img["complete"] and img["naturalWidth"] > 0, img
    assert _browser_errors(browser) == []
    text = browser.execute_script("return document.body.innerText")
    for phrase in (
        "Cross-modal retrieval",
        "FusionSearchCV",
        "compare_models",
        "Verdict",
        "fine-tuned",
    ):
        assert phrase in text
    shot = out / "screenshot.png"
    assert browser.save_screenshot(str(shot))
    with Image.open(shot) as img:
        pixels = np.asarray(img.convert("RGB"))
    assert np.all(pixels >= 245, axis=-1).mean() < 0.97


@pytest.mark.slow
@pytest.mark.data
def test_rerun_resumes_the_study_and_hits_the_cache(demo_run):
    from skmm.demo import run_demo

    first, out = demo_run
    again = run_demo(quick=True, n=40, out=out, seed=0)
    # the study is complete: no new trial, same best
    assert len(again["search"].study_.trials) == len(first["search"].study_.trials)
    assert again["search"].best_params_ == first["search"].best_params_
    assert again["cache"]["misses"] == 0 and again["cache"]["hits"] > 0


# ---------------------------------------------------------------- audio step
# Fast: the data, the transcriber and the text encoder are stand-ins, so the
# step's flow (and its skips) is tested without fetched data or weights.


def _fake_audio_world(monkeypatch, tmp_path, heard=None):
    import wave

    import pandas as pd

    import skmm.audio
    import skmm.datasets
    import skmm.text

    captions = ["A frog.", "A duck.", "A red car.", "A bee.", "A frog."]
    clips = []
    for i in range(4):
        path = tmp_path / f"clip{i}.wav"
        with wave.open(str(path), "wb") as w:
            w.setnchannels(1), w.setsampwidth(2), w.setframerate(8000)
            w.writeframes(b"\0\0" * 800)
        clips.append(str(path))
    speech = pd.DataFrame({"audio": clips, "caption": captions[:4]})
    stamps = pd.DataFrame({"caption": captions})
    monkeypatch.setattr(skmm.datasets, "load_tuxpaint_audio", lambda kind: speech)
    monkeypatch.setattr(skmm.datasets, "load_tuxpaint", lambda: stamps)
    said = dict(zip(clips, heard or ["Frog!", "duck", "a red car", None]))

    class Transcriber:
        def __init__(self, **kwargs):
            pass

        def fit_transform(self, column):
            return np.array([[said[c]] for c in column], dtype=object)

    class Words:  # bag of words over a tiny vocabulary
        VOCAB = ["frog", "duck", "red", "car", "bee"]

        def __init__(self, *args, **kwargs):
            pass

        def _vec(self, t):
            t = t.lower()
            return [float(w in t) for w in self.VOCAB] if t else [np.nan] * 5

        def fit_transform(self, texts):
            return self.transform(texts)

        def transform(self, texts):
            return np.array([self._vec(t) for t in texts])

    monkeypatch.setattr(skmm.audio, "SpeechTranscriber", Transcriber)
    monkeypatch.setattr(skmm.text, "TextEncoder", Words)
    return speech


def test_audio_step_ranks_and_report(monkeypatch, tmp_path, capsys):
    from skmm.demo._audio import audio_queries, audio_report
    from skmm.report import Report

    _fake_audio_world(monkeypatch, tmp_path)
    audio = audio_queries(seed=0, n=4)
    assert audio["n_gallery"] == 5
    got = {q["caption"]: (q["heard"], q["rank"], q["top"][0]) for q in audio["queries"]}
    assert got["A frog."] == ("Frog!", 1, "A frog.")
    assert got["A red car."] == ("a red car", 1, "A red car.")
    # nothing heard: a zero query, every caption ties; the bee's is 4th
    assert got["A bee."][:2] == ("", 4)
    assert "heard 'Frog!'" in capsys.readouterr().out
    rep = Report(tmp_path / "report")
    audio_report(rep, audio)
    html = rep.write().read_text()
    assert html.count("<audio controls") == 4
    assert "the stamp&#x27;s own caption first for 3 of 4" in html
    assert "Says <em>A frog.</em>, heard “Frog!”" in html
    assert (tmp_path / "report" / "figures" / "clip0.wav").exists()


def test_audio_step_skips_without_data(monkeypatch, tmp_path):
    import skmm.datasets
    from skmm.demo._audio import audio_queries, audio_report
    from skmm.report import Report

    def absent(kind):
        raise skmm.datasets.DataNotFoundError("no tuxpaint", dataset="tuxpaint")

    monkeypatch.setattr(skmm.datasets, "load_tuxpaint_audio", absent)
    audio = audio_queries()
    assert "fetch tuxpaint" in audio["skipped"]
    rep = Report(tmp_path)
    audio_report(rep, audio)
    assert "Skipped: the tuxpaint data set is not fetched" in rep.sections[-1]
    assert "<audio" not in rep.to_html()


def test_audio_step_skips_without_speech_extra(monkeypatch, tmp_path):
    import skmm.audio
    from skmm.demo._audio import audio_queries
    from skmm.exceptions import MissingDependencyError

    _fake_audio_world(monkeypatch, tmp_path)

    class NoWhisper:
        def __init__(self, **kwargs):
            pass

        def fit_transform(self, column):
            raise MissingDependencyError("pip install 'skmm[speech]'")

    monkeypatch.setattr(skmm.audio, "SpeechTranscriber", NoWhisper)
    assert "skmm[speech]" in audio_queries()["skipped"]
