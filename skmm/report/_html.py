"""The report builder: a folder with ``index.html`` and its figures.

The page is self-contained: its CSS is inline, it links to nothing outside
the folder (no CDN, no web font, no script), and images are referenced by
paths relative to the page, so the folder can be zipped, moved, attached to
a CI run and opened offline from ``file://``.
"""

from __future__ import annotations

import html
import math
import numbers
import re
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

import numpy as np

__all__ = ["Report", "dataframe_to_html", "format_number", "markdown_to_html"]

FIGURES_DIR = "figures"
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".svg", ".webp")

CSS = """
:root { color-scheme: light; }
* { box-sizing: border-box; }
body {
  margin: 0; background: #f6f7f9; color: #1f2328;
  font: 15px/1.55 system-ui, -apple-system, "Segoe UI", Roboto,
    "Liberation Sans", "DejaVu Sans", Arial, sans-serif;
}
main {
  max-width: 1100px; margin: 0 auto; padding: 24px 32px 40px;
  background: #ffffff; min-height: 100vh;
}
h1 { font-size: 1.9em; margin: 0.2em 0 0.6em; border-bottom: 2px solid #d0d7de;
  padding-bottom: 0.25em; }
h2 { font-size: 1.4em; margin: 1.4em 0 0.5em; }
h3, h4, h5, h6 { margin: 1.2em 0 0.4em; }
code, pre { font-family: ui-monospace, "SFMono-Regular", "DejaVu Sans Mono",
  "Liberation Mono", Menlo, monospace; font-size: 0.9em; }
code { background: #eff1f3; padding: 0.1em 0.3em; border-radius: 4px; }
pre { background: #eff1f3; padding: 10px 14px; border-radius: 6px;
  overflow-x: auto; }
pre code { background: none; padding: 0; }
section.table { margin: 1.2em 0; overflow-x: auto; }
table { border-collapse: collapse; margin: 0.4em 0; font-size: 0.93em; }
caption { caption-side: top; text-align: left; font-weight: 600;
  padding-bottom: 0.4em; }
th, td { padding: 5px 12px; border-bottom: 1px solid #d8dee4; }
thead th { border-bottom: 2px solid #8c959f; text-align: left;
  background: #f6f8fa; }
tbody tr:nth-child(even) { background: #fafbfc; }
tbody th { text-align: left; font-weight: 500; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
td.best { background: #e6f4ea; }
td.na { color: #8c959f; }
figure { margin: 1.4em 0; }
figure img { display: block; max-width: 100%; height: auto;
  border: 1px solid #d8dee4; background: #ffffff; }
figcaption { color: #57606a; font-size: 0.92em; margin-top: 0.4em; }
footer { margin-top: 3em; color: #8c959f; font-size: 0.85em;
  border-top: 1px solid #d8dee4; padding-top: 0.6em; }
"""

_NA = "–"


# --------------------------------------------------------------------- numbers
def format_number(value: Any, digits: int = 4) -> str:
    """Format a number to ``digits`` significant digits for a table cell.

    Integers are written in full; floats keep ``digits`` significant digits
    (all the digits of their integer part, and trailing zeros, so that a
    column lines up), switching to scientific notation below ``1e-3`` and
    from ``1e9`` on; missing values (``None``, ``NaN``, ``pd.NA``) are a dash.

    Parameters
    ----------
    value : number or None
    digits : int, default=4
        Significant digits of floats (at least 1).

    Returns
    -------
    str

    Examples
    --------
    >>> from skmm.report import format_number
    >>> [format_number(v) for v in (0.812345, 12.3456, 1234.56, 7, 0.5)]
    ['0.8123', '12.35', '1235', '7', '0.5000']
    >>> format_number(1.5e-5), format_number(float("nan")), format_number(None)
    ('1.500e-05', '–', '–')
    """
    import pandas as pd

    digits = max(1, int(digits))
    if value is None or value is pd.NA or value is pd.NaT:
        return _NA
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if isinstance(value, numbers.Complex) and not isinstance(value, numbers.Real):
        return str(value)
    x = float(value)
    if math.isnan(x):
        return _NA
    if math.isinf(x):
        return "∞" if x > 0 else "−∞"
    if x == 0:
        return "0" if digits == 1 else "0." + "0" * (digits - 1)
    a = abs(x)
    if a < 1e-3 or a >= 1e9:
        return f"{x:.{digits - 1}e}"
    exponent = math.floor(math.log10(a))
    decimals = max(0, digits - 1 - exponent)
    return f"{x:.{decimals}f}"


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Number) and not isinstance(value, (bool, np.bool_))


# -------------------------------------------------------------------- markdown
_INLINE_CODE = re.compile(r"`([^`]+)`")
_BOLD = re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*")
_ITALIC = re.compile(r"(?<![\w*])\*(?=\S)([^*]+?)(?<=\S)\*(?![\w*])")
_LINK = re.compile(r"\[([^\]]+)\]\(([^)\s]+)\)")
_SAFE_URL = re.compile(r"^(?:[a-z][a-z0-9+.-]*:)", re.I)
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_BULLET = re.compile(r"^\s{0,3}[-*+]\s+(.*)$")
_NUMBERED = re.compile(r"^\s{0,3}\d+[.)]\s+(.*)$")


def _link(match: re.Match) -> str:
    text, url = match.group(1), match.group(2)
    # html.escape already ran; only refuse script-like schemes
    scheme = _SAFE_URL.match(html.unescape(url))
    if scheme and scheme.group(0).lower() not in ("http:", "https:", "mailto:"):
        return text
    return f'<a href="{url}">{text}</a>'


def _inline(text: str) -> str:
    """Escape ``text`` and apply the inline Markdown subset."""
    codes: list[str] = []

    def keep(match: re.Match) -> str:
        codes.append(f"<code>{match.group(1)}</code>")
        return f"\x00{len(codes) - 1}\x00"

    out = _INLINE_CODE.sub(keep, html.escape(text, quote=True))
    out = _LINK.sub(_link, out)
    out = _BOLD.sub(r"<strong>\1</strong>", out)
    out = _ITALIC.sub(r"<em>\1</em>", out)
    return re.sub("\x00(\\d+)\x00", lambda m: codes[int(m.group(1))], out)


def markdown_to_html(text: str) -> str:
    """Turn a small Markdown subset into HTML; everything else is escaped.

    Supported: paragraphs (separated by blank lines), headings (``#`` becomes
    ``<h2>``, since the page title is the ``<h1>``), bullet and numbered
    lists, fenced code blocks, ```code```, ``**bold**``, ``*italic*`` and
    ``[links](target)``.  Raw HTML is not passed through: ``<b>`` shows as
    text.  Plain text comes out as paragraphs.

    Parameters
    ----------
    text : str

    Returns
    -------
    str
        An HTML fragment.

    Examples
    --------
    >>> from skmm.report import markdown_to_html
    >>> print(markdown_to_html("# Results\\n\\nRecall is **0.9** for `k=5`."))
    <h2>Results</h2>
    <p>Recall is <strong>0.9</strong> for <code>k=5</code>.</p>
    >>> print(markdown_to_html("- <b>one</b>\\n- two"))
    <ul>
    <li>&lt;b&gt;one&lt;/b&gt;</li>
    <li>two</li>
    </ul>
    """
    lines = str(text).replace("\r\n", "\n").split("\n")
    out: list[str] = []
    paragraph: list[str] = []
    items: list[str] = []
    list_tag: str | None = None

    def flush_paragraph() -> None:
        if paragraph:
            out.append("<p>" + _inline(" ".join(paragraph)) + "</p>")
            paragraph.clear()

    def flush_list() -> None:
        nonlocal list_tag
        if list_tag:
            out.append(f"<{list_tag}>")
            out.extend(f"<li>{_inline(item)}</li>" for item in items)
            out.append(f"</{list_tag}>")
            items.clear()
            list_tag = None

    i = 0
    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        if stripped.startswith("```"):
            flush_paragraph()
            flush_list()
            code: list[str] = []
            i += 1
            while i < len(lines) and not lines[i].strip().startswith("```"):
                code.append(lines[i])
                i += 1
            out.append("<pre><code>" + html.escape("\n".join(code)) + "</code></pre>")
            i += 1
            continue
        heading = _HEADING.match(stripped)
        bullet = _BULLET.match(line)
        numbered = _NUMBERED.match(line)
        if not stripped:
            flush_paragraph()
            flush_list()
        elif heading:
            flush_paragraph()
            flush_list()
            level = min(6, len(heading.group(1)) + 1)
            out.append(f"<h{level}>{_inline(heading.group(2))}</h{level}>")
        elif bullet or numbered:
            flush_paragraph()
            tag = "ul" if bullet else "ol"
            if list_tag != tag:
                flush_list()
                list_tag = tag
            items.append((bullet or numbered).group(1))
        elif list_tag and line[:1].isspace():  # continuation of a list item
            items[-1] += " " + stripped
        else:
            flush_list()
            paragraph.append(stripped)
        i += 1
    flush_paragraph()
    flush_list()
    return "\n".join(out)


def _plain_to_html(text: str) -> str:
    blocks = re.split(r"\n\s*\n", str(text).replace("\r\n", "\n").strip())
    return "\n".join(
        "<p>" + "<br>\n".join(html.escape(x) for x in b.split("\n")) + "</p>"
        for b in blocks
        if b.strip()
    )


# ---------------------------------------------------------------------- tables
def _label(value: Any) -> str:
    if isinstance(value, tuple):  # MultiIndex columns / rows
        return " / ".join(str(v) for v in value if str(v) != "")
    return str(value)


def _best_rules(best: Any, columns: list[Any], numeric: set[int]) -> dict[int, str]:
    """Column position -> "max" / "min"."""
    if best is None:
        return {}
    if isinstance(best, str):
        rules = {i: best for i in sorted(numeric)}
        what = repr(best)
    elif isinstance(best, Mapping):
        unknown = [c for c in best if c not in columns]
        if unknown:
            raise KeyError(
                f"best names columns {unknown!r} that are not in the table; "
                f"its columns are {columns!r}"
            )
        rules = {i: best[c] for i, c in enumerate(columns) if c in best}
        what = None
    else:
        raise TypeError(
            "best must be None, 'max', 'min' or a mapping column -> 'max' / "
            f"'min'; got {type(best).__name__}"
        )
    for i, how in rules.items():
        if how not in ("max", "min"):
            where = what or f"best[{columns[i]!r}]"
            raise ValueError(f"{where}: expected 'max' or 'min', got {how!r}")
    return rules


def dataframe_to_html(
    df: Any,
    caption: str | None = None,
    *,
    digits: int = 4,
    best: str | Mapping[Any, str] | None = None,
    index: bool | None = None,
) -> str:
    """Render a DataFrame as an HTML ``<table>``, numbers rounded.

    Every cell, column name and caption is HTML-escaped.  Numbers are
    written by :func:`format_number` and right-aligned.

    Parameters
    ----------
    df : pandas.DataFrame or pandas.Series
    caption : str, optional
    digits : int, default=4
        Significant digits of floats.
    best : {"max", "min"} or mapping, optional
        Put the best value of each numeric column in bold: ``"max"`` or
        ``"min"`` for every numeric column, or a mapping ``column ->
        "max" / "min"`` for some of them (e.g. ``{"accuracy": "max",
        "fit_time": "min"}``).  Ties are all bold; missing values ignored.
    index : bool, optional
        Show the index; by default, only when it is not a plain
        ``RangeIndex``.

    Returns
    -------
    str
        An HTML fragment.

    Examples
    --------
    >>> import pandas as pd
    >>> from skmm.report import dataframe_to_html
    >>> df = pd.DataFrame({"model": ["a<b", "c"], "score": [0.91234, 0.8]})
    >>> print(dataframe_to_html(df, best="max"))  # doctest: +NORMALIZE_WHITESPACE
    <table>
    <thead><tr><th>model</th><th class="num">score</th></tr></thead>
    <tbody>
    <tr><td>a&lt;b</td><td class="num best"><strong>0.9123</strong></td></tr>
    <tr><td>c</td><td class="num">0.8000</td></tr>
    </tbody>
    </table>
    """
    import pandas as pd

    if isinstance(df, pd.Series):
        df = df.to_frame()
    if not isinstance(df, pd.DataFrame):
        df = pd.DataFrame(df)
    columns = list(df.columns)
    numeric = {
        i
        for i, dtype in enumerate(df.dtypes)
        if pd.api.types.is_numeric_dtype(dtype)
        and not pd.api.types.is_bool_dtype(dtype)
    }
    rules = _best_rules(best, columns, numeric)
    best_rows: dict[int, np.ndarray] = {}
    for position, how in rules.items():
        values = pd.to_numeric(df.iloc[:, position], errors="coerce").to_numpy(
            dtype=float, na_value=np.nan
        )
        if np.isnan(values).all():
            continue
        target = np.nanmax(values) if how == "max" else np.nanmin(values)
        best_rows[position] = values == target
    if index is None:
        index = not (
            isinstance(df.index, pd.RangeIndex)
            and df.index.start == 0
            and df.index.step == 1
            and not df.index.name
        )

    def th(text: Any, cls: str = "") -> str:
        attr = f' class="{cls}"' if cls else ""
        return f"<th{attr}>{html.escape(_label(text))}</th>"

    head = []
    if index:
        names = [n for n in df.index.names if n is not None]
        head.append(th(" / ".join(map(str, names)) if names else ""))
    head += [th(c, "num" if i in numeric else "") for i, c in enumerate(columns)]
    parts = []
    if caption:
        parts.append(f"<caption>{html.escape(str(caption))}</caption>")
    parts.append("<thead><tr>" + "".join(head) + "</tr></thead>")
    parts.append("<tbody>")
    for r, (label, row) in enumerate(zip(df.index, df.itertuples(index=False))):
        cells = [f"<th>{html.escape(_label(label))}</th>"] if index else []
        for c, value in enumerate(row):
            try:
                missing = bool(pd.isna(value))
            except (TypeError, ValueError):  # array-like cells
                missing = False
            classes = []
            if missing:
                text, classes = _NA, ["na"]
            elif _is_number(value):
                text, classes = format_number(value, digits), ["num"]
            else:
                text = html.escape(str(value))
            bold = c in best_rows and bool(best_rows[c][r])
            if bold:
                classes.append("best")
                text = f"<strong>{text}</strong>"
            attr = f' class="{" ".join(classes)}"' if classes else ""
            cells.append(f"<td{attr}>{text}</td>")
        parts.append("<tr>" + "".join(cells) + "</tr>")
    parts.append("</tbody>")
    return "<table>\n" + "\n".join(parts) + "\n</table>"


# ---------------------------------------------------------------------- report
def _png_size(path: Path) -> tuple[int, int] | None:
    try:
        from PIL import Image

        with Image.open(path) as img:
            return img.size
    except Exception:  # SVG or unreadable: let the browser size it
        return None


class Report:
    """Build a report folder: ``index.html`` plus the figures it shows.

    Add sections in order with :meth:`add_text`, :meth:`add_table`,
    :meth:`add_figure` and :meth:`add_gallery`, then :meth:`write` the page.
    Figures are copied into ``folder/figures/`` (files already inside the
    folder stay where they are) and referenced by relative paths; the CSS is
    inline and nothing is loaded from the network, so the folder opens
    offline from ``file://`` and can be moved or archived as a whole.

    Parameters
    ----------
    folder : path
        The report's folder; created when needed.
    title : str, default="skmm report"
        The page's title and ``<h1>``.

    Attributes
    ----------
    folder : pathlib.Path
    title : str
    sections : list of str
        The HTML fragment of each section, in order.

    Examples
    --------
    >>> import tempfile
    >>> import pandas as pd
    >>> from skmm.report import Report
    >>> scores = pd.DataFrame({"model": ["text", "image"], "accuracy": [0.71, 0.84]})
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     report = Report(tmp, "Emoji groups")
    ...     _ = report.add_text("Cross-validated **accuracy**, 5 folds.")
    ...     _ = report.add_table(scores, "Scores", best="max")
    ...     page = report.write()
    ...     page.name, "<strong>0.8400</strong>" in page.read_text()
    ('index.html', True)
    """

    def __init__(self, folder: str | Path, title: str = "skmm report") -> None:
        self.folder = Path(folder)
        self.title = str(title)
        self.sections: list[str] = []
        self._files: dict[str, Path] = {}  # relative name -> its source
        self._counts = {"figure": 0, "gallery": 0}

    def __repr__(self) -> str:
        return (
            f"Report(folder={str(self.folder)!r}, title={self.title!r}, "
            f"sections={len(self.sections)})"
        )

    # ------------------------------------------------------------ sections
    def add_text(self, text: str, *, markdown: bool = True) -> Report:
        """Add a block of text.

        Parameters
        ----------
        text : str
            Markdown (the subset of :func:`markdown_to_html`: headings,
            lists, code, bold, italic, links) or plain text.
        markdown : bool, default=True
            ``False``: plain text, escaped, paragraphs at blank lines and
            line breaks kept.

        Returns
        -------
        self : Report

        Examples
        --------
        >>> from skmm.report import Report
        >>> report = Report("unused-folder").add_text("## Setup\\n\\n5-fold CV.")
        >>> print(report.sections[-1])
        <h3>Setup</h3>
        <p>5-fold CV.</p>
        """
        body = markdown_to_html(text) if markdown else _plain_to_html(text)
        self.sections.append(body)
        return self

    def add_table(
        self,
        df: Any,
        caption: str | None = None,
        *,
        digits: int = 4,
        best: str | Mapping[Any, str] | None = None,
        index: bool | None = None,
    ) -> Report:
        """Add a pandas DataFrame as a table.

        Parameters
        ----------
        df : pandas.DataFrame or pandas.Series
        caption : str, optional
        digits : int, default=4
            Significant digits of floats.
        best : {"max", "min"} or mapping, optional
            Bold the best value of every numeric column (``"max"`` /
            ``"min"``) or of the columns named in a mapping ``column ->
            "max" / "min"``.
        index : bool, optional
            Show the index (default: when it is not a plain ``RangeIndex``).

        Returns
        -------
        self : Report

        See Also
        --------
        dataframe_to_html : the rendering, with examples.

        Examples
        --------
        >>> import pandas as pd
        >>> from skmm.report import Report
        >>> df = pd.DataFrame({"fit_time": [1.25, 0.5]}, index=["mlp", "knn"])
        >>> report = Report("unused-folder").add_table(df, best="min")
        >>> "<strong>0.5000</strong>" in report.sections[-1]
        True
        """
        table = dataframe_to_html(df, caption, digits=digits, best=best, index=index)
        self.sections.append(f'<section class="table">\n{table}\n</section>')
        return self

    def _free(self, filename: str) -> Path:
        """A path in ``folder/figures/`` that no figure of this report uses."""
        stem, suffix = Path(filename).stem, Path(filename).suffix
        n = 1
        while True:
            rel = f"{FIGURES_DIR}/{stem}{'' if n == 1 else f'-{n}'}{suffix}"
            if rel not in self._files:
                return self.folder / rel
            n += 1

    def _place(self, source: Path) -> str:
        """Copy ``source`` into the folder (unless it is in it already);
        return its path relative to the folder, in URL form."""
        if not source.is_file():
            raise FileNotFoundError(f"figure file not found: {str(source)!r}")
        folder = self.folder.resolve()
        resolved = source.resolve()
        try:
            rel = resolved.relative_to(folder).as_posix()
        except ValueError:
            stem, suffix = source.stem, source.suffix.lower()
            n = 1
            while True:
                rel = f"{FIGURES_DIR}/{stem}{'' if n == 1 else f'-{n}'}{suffix}"
                known = self._files.get(rel)
                if known is None or known == resolved:
                    break
                n += 1
            target = folder / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(resolved, target)
        self._files[rel] = resolved
        return rel

    def _figure_section(self, rel: str, caption: str | None, alt: str | None) -> None:
        size = _png_size(self.folder / rel)
        dims = f' width="{size[0]}" height="{size[1]}"' if size else ""
        alt_text = alt if alt is not None else (caption or Path(rel).stem)
        parts = [
            "<figure>",
            f'<img src="{quote(rel)}" alt="{html.escape(str(alt_text))}"{dims}>',
        ]
        if caption:
            parts.append(f"<figcaption>{_inline(str(caption))}</figcaption>")
        parts.append("</figure>")
        self.sections.append("\n".join(parts))

    def add_figure(
        self,
        figure: str | Path | Any,
        caption: str | None = None,
        *,
        alt: str | None = None,
        dpi: int = 110,
    ) -> Report:
        """Add a figure: an image file, or a matplotlib figure.

        Parameters
        ----------
        figure : path or matplotlib.figure.Figure
            A PNG (or JPEG, GIF, SVG, WebP) file: one outside the report's
            folder is copied into ``folder/figures/`` (renamed ``name-2.png``
            when another file of that name is there already); one inside it
            is referenced where it is.  A matplotlib figure is saved there as
            ``figure-<n>.png``.
        caption : str, optional
            Shown under the figure (inline Markdown: code, bold, italic).
        alt : str, optional
            The image's alternative text (default: the caption).
        dpi : int, default=110
            Resolution when saving a matplotlib figure.

        Returns
        -------
        self : Report

        Examples
        --------
        >>> import tempfile
        >>> from pathlib import Path
        >>> import numpy as np
        >>> from PIL import Image
        >>> from skmm.report import Report
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     png = Path(tmp) / "plot.png"
        ...     Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(png)
        ...     report = Report(Path(tmp) / "report")
        ...     print(report.add_figure(png, "A black square").sections[-1])
        <figure>
        <img src="figures/plot.png" alt="A black square" width="8" height="8">
        <figcaption>A black square</figcaption>
        </figure>
        """
        if hasattr(figure, "savefig") and not isinstance(figure, (str, Path)):
            self._counts["figure"] += 1
            target = self._free(f"figure-{self._counts['figure']}.png")
            target.parent.mkdir(parents=True, exist_ok=True)
            figure.savefig(target, dpi=dpi, bbox_inches="tight", facecolor="white")
            rel = self._place(target)
        else:
            source = Path(figure)
            if source.suffix.lower() not in IMAGE_SUFFIXES:
                raise ValueError(
                    f"{str(source)!r} is not an image file a browser shows; "
                    f"expected one of {', '.join(IMAGE_SUFFIXES)}"
                )
            rel = self._place(source)
        self._figure_section(rel, caption, alt)
        return self

    def add_gallery(
        self,
        queries: Sequence[str],
        galleries: Sequence[Sequence[Any]] | np.ndarray,
        caption: str | None = None,
        *,
        correct: Any = None,
        name: str | None = None,
        **kwargs: Any,
    ) -> np.ndarray:
        """Add a retrieval gallery: each text query and its top images.

        Draws the PNG with :func:`save_retrieval_gallery` into
        ``folder/figures/`` and adds it as a figure.

        Parameters
        ----------
        queries : sequence of str
            The query texts.
        galleries : sequence of sequences of images, or ndarray
            Per query, its retrieved images best first (see
            :func:`save_retrieval_gallery`).
        caption : str, optional
            Shown under the gallery; a summary of the ranks of the correct
            items is appended when ``correct`` is given.
        correct : sequence, optional
            Per query, the position of the correct image among the shown ones
            (``-1`` / ``None`` when it is not shown), or a boolean row.
        name : str, optional
            File name of the PNG (default ``gallery-<n>.png``).
        **kwargs
            Passed to :func:`save_retrieval_gallery` (``k``, ``title``,
            ``wrap``, ``thumb_size``, ``other_color``, ...).

        Returns
        -------
        ranks : ndarray of int
            Per query, the 1-based rank of the correct image among those
            shown; ``0`` when it is not shown (or ``correct`` is ``None``).

        Examples
        --------
        >>> import tempfile
        >>> import numpy as np
        >>> from skmm.report import Report
        >>> images = np.zeros((2, 3, 8, 8, 3), dtype=np.uint8)
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     report = Report(tmp)
        ...     report.add_gallery(["cat", "dog"], images, correct=[0, 2])
        ...     (report.folder / "figures" / "gallery-1.png").is_file()
        array([1, 3])
        True
        """
        from skmm.report._gallery import save_retrieval_gallery

        galleries = [list(row) for row in galleries]
        self._counts["gallery"] += 1
        filename = Path(name or f"gallery-{self._counts['gallery']}").name
        if not filename.lower().endswith(".png"):
            filename += ".png"
        target = self._free(filename)
        ranks = save_retrieval_gallery(queries, galleries, correct, target, **kwargs)
        rel = self._place(target)
        text = str(caption) if caption else ""
        if correct is not None:
            shown = int((ranks > 0).sum())
            k = max(len(row) for row in galleries)
            if kwargs.get("k") is not None:
                k = min(k, int(kwargs["k"]))
            summary = (
                f"Correct item at rank 1 for {int((ranks == 1).sum())} of "
                f"{len(ranks)} queries, in the top {k} for {shown}."
            )
            if text and not text.endswith((".", "!", "?", ":")):
                text += "."
            text = f"{text} {summary}".strip()
        self._figure_section(rel, text or None, caption or "retrieval gallery")
        return ranks

    # -------------------------------------------------------------- output
    def to_html(self) -> str:
        """The page as a string (what :meth:`write` writes).

        Returns
        -------
        str

        Examples
        --------
        >>> from skmm.report import Report
        >>> page = Report("unused-folder", "A & B").to_html()
        >>> page.startswith("<!DOCTYPE html>"), "<h1>A &amp; B</h1>" in page
        (True, True)
        """
        from skmm import __version__

        title = html.escape(self.title)
        body = "\n".join(self.sections)
        return (
            "<!DOCTYPE html>\n"
            '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f'<meta name="generator" content="skmm {html.escape(__version__)}">\n'
            f"<title>{title}</title>\n<style>{CSS}</style>\n</head>\n<body>\n<main>\n"
            f"<h1>{title}</h1>\n{body}\n"
            f"<footer>Made with skmm {html.escape(__version__)}.</footer>\n"
            "</main>\n</body>\n</html>\n"
        )

    def write(self) -> Path:
        """Write ``folder/index.html``; return its path.

        Writing again rewrites the same page (the figures were placed when
        added), so calling it twice changes nothing.

        Returns
        -------
        pathlib.Path
            The page, ``folder / "index.html"``.

        Examples
        --------
        >>> import tempfile
        >>> from skmm.report import Report
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     report = Report(tmp, "Empty")
        ...     first = report.write().read_bytes()
        ...     report.write().read_bytes() == first
        True
        """
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / "index.html"
        path.write_text(self.to_html(), encoding="utf-8")
        return path
