"""The report builder: escaping, number formatting, figure placement, the
retrieval gallery, and a page that links to nothing outside its folder."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from skmm.report import (
    Report,
    dataframe_to_html,
    format_number,
    markdown_to_html,
    save_retrieval_gallery,
)

pytest.importorskip("matplotlib")


def _images(n_queries: int, k: int, size: int = 12, seed: int = 0) -> np.ndarray:
    rng = np.random.RandomState(seed)
    return rng.randint(0, 256, size=(n_queries, k, size, size, 3), dtype=np.uint8)


def _png(path: Path, color=(200, 30, 30), size=(20, 10)) -> Path:
    Image.new("RGB", size, color).save(path)
    return path


def _img_srcs(page: str) -> list[str]:
    return re.findall(r'<img src="([^"]+)"', page)


# ------------------------------------------------------------------ tables
def test_table_escapes_html_in_cells_columns_index_and_caption():
    df = pd.DataFrame(
        {"<script>x</script>": ["<b>bold?</b>", "a & b"], "n": [1, 2]},
        index=pd.Index(["<i>", '"q"'], name="<idx>"),
    )
    out = dataframe_to_html(df, caption="<em>caption</em>")
    assert "<script>" not in out and "<b>" not in out and "<i>" not in out
    assert "&lt;script&gt;x&lt;/script&gt;" in out
    assert "&lt;b&gt;bold?&lt;/b&gt;" in out
    assert "a &amp; b" in out
    assert "&lt;em&gt;caption&lt;/em&gt;" in out
    assert "&lt;idx&gt;" in out and "&quot;q&quot;" in out


def test_table_formats_numbers_to_significant_digits():
    df = pd.DataFrame(
        {"f": [0.8123456, 12.34567, 1234.567, np.nan], "i": [1, 20, 300, 4000]}
    )
    out = dataframe_to_html(df, digits=4)
    for text in ("0.8123", "12.35", "1235", "–", ">4000<"):
        assert text in out
    assert "0.8123456" not in out
    out3 = dataframe_to_html(df, digits=3)
    assert "0.812" in out3 and "12.3" in out3


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0.5, "0.5000"),
        (1.0, "1.000"),
        (-0.0012345, "-0.001234"),
        (2.5e-5, "2.500e-05"),
        (3.2e10, "3.200e+10"),
        (np.float32(0.25), "0.2500"),
        (np.int64(42), "42"),
        (True, "True"),
        (None, "–"),
        (pd.NA, "–"),
        (float("inf"), "∞"),
        (0.0, "0.000"),
    ],
)
def test_format_number(value, expected):
    assert format_number(value) == expected


def test_table_bolds_best_value_per_column():
    df = pd.DataFrame(
        {
            "model": ["a", "b", "c"],
            "accuracy": [0.7, 0.9, 0.9],  # a tie: both bold
            "fit_time": [3.0, 1.0, 2.0],
        }
    )
    out = dataframe_to_html(df, best={"accuracy": "max", "fit_time": "min"})
    assert out.count("<strong>0.9000</strong>") == 2
    assert "<strong>1.000</strong>" in out
    assert "<strong>0.7000</strong>" not in out
    assert "<strong>3.000</strong>" not in out
    # "max" applies to every numeric column and never to text
    out = dataframe_to_html(df, best="max")
    assert "<strong>3.000</strong>" in out and "<strong>a</strong>" not in out
    assert "<strong>" not in dataframe_to_html(df)


def test_table_best_rejects_unknown_columns_and_rules():
    df = pd.DataFrame({"x": [1.0, 2.0]})
    with pytest.raises(KeyError, match="not in the table"):
        dataframe_to_html(df, best={"y": "max"})
    with pytest.raises(ValueError, match="'max' or 'min'"):
        dataframe_to_html(df, best="largest")


def test_table_index_shown_only_when_meaningful():
    plain = pd.DataFrame({"x": [1.0, 2.0]})
    named = plain.set_axis(["mlp", "knn"])
    assert "<tbody>\n<tr><th>" not in dataframe_to_html(plain)
    assert "<th>mlp</th>" in dataframe_to_html(named)
    assert "<th>0</th>" in dataframe_to_html(plain, index=True)


def test_markdown_subset_and_escaping():
    out = markdown_to_html(
        "# Title\n\nSome **bold**, *it*, `a<b`, snake_case_name.\n\n"
        "- one\n- two\n\n1. first\n2. second\n\n<script>alert(1)</script>\n\n"
        "[bad](javascript:alert(1)) [ok](figures/a.png)\n\n```\nx = 1 < 2\n```"
    )
    assert "<h2>Title</h2>" in out
    assert "<strong>bold</strong>" in out and "<em>it</em>" in out
    assert "<code>a&lt;b</code>" in out and "snake_case_name" in out
    assert "<ul>\n<li>one</li>\n<li>two</li>\n</ul>" in out
    assert "<ol>\n<li>first</li>" in out
    assert "<script>" not in out and "&lt;script&gt;" in out
    assert "javascript:" not in out.replace("&lt;", "")  # no live link
    assert 'href="javascript' not in out
    assert '<a href="figures/a.png">ok</a>' in out
    assert "<pre><code>x = 1 &lt; 2</code></pre>" in out


def test_add_text_plain_keeps_line_breaks():
    report = Report("unused").add_text("a <b>\nnext line\n\npara 2", markdown=False)
    assert report.sections[-1] == "<p>a &lt;b&gt;<br>\nnext line</p>\n<p>para 2</p>"


# ----------------------------------------------------------------- figures
def test_figure_paths_are_relative_and_files_exist(tmp_path):
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "sub").mkdir()
    a = _png(outside / "plot.png")
    b = _png(outside / "sub" / "plot.png", color=(0, 0, 200))  # same name
    folder = tmp_path / "my report"  # a space: the src must be URL-quoted
    inside = folder / "own" / "inside.png"
    inside.parent.mkdir(parents=True)
    _png(inside)
    report = Report(folder, "Figures")
    report.add_figure(a, "first").add_figure(b, "second")
    report.add_figure(a, "first again")  # the same file is not copied twice
    report.add_figure(inside, "already inside")
    page = report.write().read_text()
    srcs = _img_srcs(page)
    assert srcs == [
        "figures/plot.png",
        "figures/plot-2.png",
        "figures/plot.png",
        "own/inside.png",
    ]
    for src in srcs:
        assert not src.startswith(("/", "file:")) and ".." not in src
        assert (folder / src).is_file()
    # the copies are the right files
    assert Image.open(folder / "figures/plot-2.png").getpixel((0, 0)) == (0, 0, 200)
    assert sorted(p.name for p in (folder / "figures").iterdir()) == [
        "plot-2.png",
        "plot.png",
    ]
    assert 'width="20" height="10"' in page


def test_add_figure_from_matplotlib_figure(tmp_path):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(3, 2))
    fig.subplots().plot([0, 1], [1, 0])
    report = Report(tmp_path / "r").add_figure(fig, "A line")
    (src,) = _img_srcs(report.to_html())
    assert src == "figures/figure-1.png"
    assert (tmp_path / "r" / src).read_bytes()[:4] == b"\x89PNG"


def test_add_figure_errors(tmp_path):
    report = Report(tmp_path)
    with pytest.raises(FileNotFoundError, match="not found"):
        report.add_figure(tmp_path / "missing.png")
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(ValueError, match="not an image file"):
        report.add_figure(tmp_path / "notes.txt")
    assert report.sections == []


# ----------------------------------------------------------------- gallery
def test_gallery_png_size_and_ranks(tmp_path):
    n, k = 3, 5
    png = tmp_path / "g" / "gallery.png"
    ranks = save_retrieval_gallery(
        ["red", "a much longer query that wraps over lines", "blue"],
        _images(n, k),
        [0, 3, -1],
        png,
        dpi=50,
    )
    np.testing.assert_array_equal(ranks, [1, 4, 0])
    assert ranks.dtype.kind == "i"
    with Image.open(png) as img:
        width, height = img.size
        assert img.format == "PNG"
        pixels = np.asarray(img.convert("RGB"))
    # wider than tall (text column + 5 thumbnails), grows with the queries
    assert width > height > 0
    assert 0.5 * (2.4 + k * 1.3) * 50 < width < 1.5 * (2.4 + k * 1.3) * 50
    assert 0.5 * n * 1.6 * 50 < height < 1.5 * n * 1.6 * 50
    # the correct images are framed in green (#2ca02c)
    green = np.all(np.abs(pixels.astype(int) - (44, 160, 44)) < 40, axis=-1)
    assert green.sum() > 50


def test_gallery_correct_forms(tmp_path):
    images = _images(3, 4)
    png = tmp_path / "g.png"
    mask = np.array(
        [[False, False, True, True], [False] * 4, [True, False, False, False]]
    )
    np.testing.assert_array_equal(
        save_retrieval_gallery(["a", "b", "c"], images, mask, png), [3, 0, 1]
    )
    np.testing.assert_array_equal(
        save_retrieval_gallery(["a", "b", "c"], images, [None, 9, 1], png), [0, 0, 2]
    )
    np.testing.assert_array_equal(
        save_retrieval_gallery(["a", "b", "c"], images, None, png), [0, 0, 0]
    )
    # k cuts the rows: a correct item beyond it is not shown
    np.testing.assert_array_equal(
        save_retrieval_gallery(["a", "b", "c"], images, [3, 1, 0], png, k=2),
        [0, 2, 1],
    )


def test_gallery_accepts_pil_images_ragged_rows_and_empty_cells(tmp_path):
    pil = Image.new("RGB", (30, 20), (0, 128, 255))
    gray = np.full((10, 10), 0.5)  # floats in [0, 1], one channel
    png = tmp_path / "g.png"
    ranks = save_retrieval_gallery(
        ["one $x$ dollar", "two"], [[pil, gray, None], [pil]], [1, 0], png
    )
    np.testing.assert_array_equal(ranks, [2, 1])
    assert png.stat().st_size > 1000


def test_gallery_input_errors(tmp_path):
    png = tmp_path / "g.png"
    with pytest.raises(ValueError, match="one row of top images per query"):
        save_retrieval_gallery(["a", "b"], _images(1, 2), None, png)
    with pytest.raises(ValueError, match="2 queries"):
        save_retrieval_gallery(["a", "b"], _images(2, 2), [0], png)
    with pytest.raises(ValueError, match="at least one query"):
        save_retrieval_gallery([], [], None, png)
    with pytest.raises(TypeError, match="int position"):
        save_retrieval_gallery(["a"], _images(1, 2), [0.5], png)


def test_add_gallery_returns_ranks_and_summarises_them(tmp_path):
    report = Report(tmp_path / "r")
    ranks = report.add_gallery(
        ["cat", "dog"], _images(2, 5), "Text to image", correct=[0, -1]
    )
    np.testing.assert_array_equal(ranks, [1, 0])
    section = report.sections[-1]
    assert 'src="figures/gallery-1.png"' in section
    assert (
        "Text to image. Correct item at rank 1 for 1 of 2 queries, in the top 5 for 1."
        in section
    )
    assert (tmp_path / "r" / "figures" / "gallery-1.png").is_file()
    # a second gallery gets its own file
    report.add_gallery(["cat"], _images(1, 2), name="gallery-1")
    assert 'src="figures/gallery-1-2.png"' in report.sections[-1]


# ------------------------------------------------------------------- write
def _full_report(folder: Path, source: Path) -> Report:
    report = Report(folder, "Run <1> & co")
    report.add_text("Intro with *markdown* and `code`.")
    report.add_table(
        pd.DataFrame({"model": ["a", "b"], "recall@5": [0.5, 0.75]}),
        "Scores",
        best="max",
    )
    report.add_figure(_png(source), "A figure")
    report.add_gallery(["q1", "q2"], _images(2, 3), "Gallery", correct=[1, 0])
    return report


def test_write_is_idempotent(tmp_path):
    folder = tmp_path / "report"
    report = _full_report(folder, tmp_path / "fig.png")
    path = report.write()
    assert path == folder / "index.html"
    first = path.read_bytes()
    files = {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()}
    assert report.write() == path
    assert path.read_bytes() == first
    assert {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()} == files
    # and the same inputs in a fresh report give the same page
    again = _full_report(tmp_path / "again", tmp_path / "fig.png").write()
    assert again.read_bytes() == first


def test_page_is_self_contained(tmp_path):
    page = _full_report(tmp_path / "r", tmp_path / "fig.png").write().read_text()
    assert page.startswith("<!DOCTYPE html>")
    assert '<meta charset="utf-8">' in page
    assert "<title>Run &lt;1&gt; &amp; co</title>" in page
    assert "http://" not in page and "https://" not in page
    assert "//" not in re.sub(r"<style>.*?</style>", "", page, flags=re.S)
    assert "<link" not in page and "<script" not in page
    assert "@import" not in page and "url(" not in page
    assert len(_img_srcs(page)) == 2
