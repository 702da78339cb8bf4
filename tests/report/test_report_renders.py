"""A written report opens in a real browser: headless Chromium, offline.

How Chromium is driven, and why this way
----------------------------------------
Selenium (``pip install selenium``) drives Debian's Chromium through Debian's
own chromedriver (``apt-get install chromium chromium-driver``): the two come
from one source package, so their versions always match.  Selenium is given
the driver's path (``Service("/usr/bin/chromedriver")``) and the browser's
(``options.binary_location = "/usr/bin/chromium"``), so Selenium Manager,
which would otherwise download a driver from the internet, is never run.
Chromium runs with ``--headless=new --no-sandbox --disable-gpu
--disable-dev-shm-usage``: no display, root in a container (no sandbox), no
GPU, and a small ``/dev/shm``.

Selenium was chosen over the plain command line (``chromium --headless
--screenshot`` plus ``--dump-dom``) because it can ask the live page, through
JavaScript, whether every ``<img>`` loaded (``img.complete &&
img.naturalWidth > 0``) and read the browser's console; the command line only
gives a picture and the DOM, and a broken image is still in the DOM.

Checks: the screenshot (decoded with Pillow) is not blank; every image
loaded, at its file's size; the table rendered; no console errors.  A
control run deletes a figure and checks that the same test flags it, so the
check cannot pass vacuously.

The test skips, saying how to install them, when selenium, Chromium or
chromedriver is missing (``scripts/setup_env.sh`` installs all three when run
as root on Debian/Ubuntu).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

INSTALL_HINT = (
    "to run it: sudo apt-get install -y chromium chromium-driver && "
    '.venv/bin/pip install "selenium>=4.11" (or run scripts/setup_env.sh as root)'
)
BROWSERS = ("/usr/bin/chromium", "chromium", "chromium-browser")
DRIVERS = ("/usr/bin/chromedriver", "chromedriver")
CHROME_FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--window-size=1280,1800",
    "--hide-scrollbars",
    "--force-device-scale-factor=1",
)

pytest.importorskip("matplotlib", reason="needs matplotlib: pip install matplotlib")
webdriver = pytest.importorskip(
    "selenium.webdriver", reason=f"selenium is not installed; {INSTALL_HINT}"
)


def _which(candidates: tuple[str, ...]) -> str | None:
    for name in candidates:
        found = shutil.which(name)
        if found:
            return found
    return None


# every <img>: its src, whether it finished loading, its decoded width
IMAGES_JS = """
return Array.from(document.images).map(function (img) {
  return {src: img.getAttribute("src"), complete: img.complete,
          naturalWidth: img.naturalWidth, naturalHeight: img.naturalHeight};
});
"""
ALL_DONE_JS = "return Array.from(document.images).every(i => i.complete);"


@pytest.fixture(scope="module")
def browser():
    """One headless Chromium for the module (it takes a second or two)."""
    from selenium.webdriver.chrome.service import Service

    chromium = _which(BROWSERS)
    driver_path = _which(DRIVERS)
    if chromium is None or driver_path is None:
        missing = "Chromium" if chromium is None else "chromedriver"
        pytest.skip(f"{missing} is not installed; {INSTALL_HINT}")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in CHROME_FLAGS:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    with pytest.MonkeyPatch.context() as mp:
        # the client talks to chromedriver on localhost: never via a proxy
        for var in ("no_proxy", "NO_PROXY"):
            before = os.environ.get(var, "")
            mp.setenv(var, ",".join(filter(None, [before, "localhost", "127.0.0.1"])))
        driver = webdriver.Chrome(service=Service(driver_path), options=options)
        try:
            driver.set_page_load_timeout(60)
            yield driver
        finally:
            driver.quit()


def _build_report(folder: Path) -> Path:
    """A small report: text, a table, a matplotlib figure, a gallery."""
    from matplotlib.figure import Figure

    from skmm.report import Report

    rng = np.random.RandomState(0)
    report = Report(folder, "skmm report — rendering test")
    report.add_text(
        "## Set-up\n\nA **table**, a *figure* and a `gallery`:\n\n- one\n- two"
    )
    table = pd.DataFrame(
        {
            "features": ["text", "image", "text + image"],
            "accuracy": [0.61234, 0.70011, 0.80123],
            "std": [0.021, 0.034, 0.015],
        }
    )
    report.add_table(table, "Cross-validated accuracy", best={"accuracy": "max"})
    fig = Figure(figsize=(5, 3))
    ax = fig.subplots()
    ax.plot(np.arange(10), rng.normal(size=10).cumsum(), marker="o")
    ax.set_title("A random walk")
    report.add_figure(fig, "A matplotlib figure")
    images = rng.randint(0, 256, size=(3, 5, 32, 32, 3), dtype=np.uint8)
    report.add_gallery(
        ["a red square", "a blue circle", "a grinning face with big eyes"],
        images,
        "Text to image retrieval",
        correct=[0, 2, -1],
    )
    return report.write()


def _open(driver, page: Path) -> list[dict]:
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get(page.resolve().as_uri())
    WebDriverWait(driver, 30).until(lambda d: d.execute_script(ALL_DONE_JS))
    return driver.execute_script(IMAGES_JS)


def _browser_errors(driver) -> list[str]:
    try:
        logs = driver.get_log("browser")
    except Exception:  # a driver without the legacy log endpoint
        return []
    return [e["message"] for e in logs if e.get("level") == "SEVERE"]


def test_report_renders_in_headless_chromium(browser, tmp_path):
    from PIL import Image

    page = _build_report(tmp_path / "report")
    images = _open(browser, page)

    # (b) every <img> loaded, and at the size of its file
    assert len(images) == 2, images
    for img in images:
        assert img["complete"] and img["naturalWidth"] > 0, img
        with Image.open(page.parent / img["src"]) as png:
            assert (img["naturalWidth"], img["naturalHeight"]) == png.size
    assert _browser_errors(browser) == []

    # the page itself: title, table, bold best value
    assert browser.title == "skmm report — rendering test"
    rows = browser.execute_script("return document.querySelectorAll('tbody tr').length")
    assert rows == 3
    best = browser.execute_script(
        "return document.querySelector('td.best strong').textContent"
    )
    assert best == "0.8012"
    height = browser.execute_script("return document.body.scrollHeight")
    assert height > 800  # the figures take room: they were laid out

    # (a) the screenshot is not blank
    shot = tmp_path / "screenshot.png"
    assert browser.save_screenshot(str(shot))
    with Image.open(shot) as img:
        rgb = img.convert("RGB")
    pixels = np.asarray(rgb)
    assert pixels.shape[0] > 500 and pixels.shape[1] > 500
    n_colours = len(rgb.getcolors(maxcolors=1 << 24))
    assert n_colours > 100, f"only {n_colours} distinct colours"
    white = np.all(pixels >= 245, axis=-1).mean()
    assert white < 0.97, f"{white:.1%} of the screenshot is white"
    # the gallery's random thumbnails are colourful: saturated pixels exist
    spread = pixels.max(axis=-1).astype(int) - pixels.min(axis=-1)
    assert (spread > 100).mean() > 0.01


def test_a_missing_image_is_detected(browser, tmp_path):
    """Control: the same checks flag an image whose file is gone."""
    page = _build_report(tmp_path / "report")
    (page.parent / "figures" / "figure-1.png").unlink()
    images = _open(browser, page)
    broken = [i["src"] for i in images if not i["naturalWidth"]]
    assert broken == ["figures/figure-1.png"]
