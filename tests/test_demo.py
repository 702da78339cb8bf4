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
