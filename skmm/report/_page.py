"""The page model: :class:`Report`, the sections of a page in order and the
figure files it places in its folder.

The page is self-contained: its CSS is inline, it links to nothing outside
the folder (no CDN, no web font, no script), and images are referenced by
paths relative to the page, so the folder can be zipped, moved, attached to
a CI run and opened offline from ``file://``.  The HTML itself is drawn by
the templates (:mod:`skmm.report._render`).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

import numpy as np

from skmm.report._markdown import inline, markdown_to_html, plain_to_html
from skmm.report._render import markup, render, stylesheet
from skmm.report._table import dataframe_to_html

__all__ = ["Report"]

FIGURES_DIR = "figures"
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".svg", ".webp")


def _figure_names(stem: str, suffix: str) -> Iterator[str]:
    """``figures/<stem><suffix>``, then ``figures/<stem>-2<suffix>``, ..."""
    n = 1
    while True:
        yield f"{FIGURES_DIR}/{stem}{'' if n == 1 else f'-{n}'}{suffix}"
        n += 1


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
    :meth:`add_figure`, :meth:`add_gallery` and :meth:`add_audio`, then
    :meth:`write` the page.
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
        body = markdown_to_html(text) if markdown else plain_to_html(text)
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
            The table; its numbers are rounded and right-aligned.
        caption : str, optional
            Shown above the table.
        digits, best, index
            As in :func:`dataframe_to_html`: significant digits of floats
            (default 4), the best value of every numeric column in bold
            (``"max"`` / ``"min"``) or of the columns named in a mapping
            ``column -> "max" / "min"``, and whether to show the index
            (default: when it is not a plain ``RangeIndex``).

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
        names = _figure_names(Path(filename).stem, Path(filename).suffix)
        return self.folder / next(rel for rel in names if rel not in self._files)

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
            names = _figure_names(source.stem, source.suffix.lower())
            # a free name, or the one this very file was copied to before
            rel = next(r for r in names if self._files.get(r) in (None, resolved))
            target = folder / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(resolved, target)
        self._files[rel] = resolved
        return rel

    def _figure_section(self, rel: str, caption: str | None, alt: str | None) -> None:
        alt_text = alt if alt is not None else (caption or Path(rel).stem)
        figure = render(
            "figure.html",
            src=quote(rel),
            alt=alt_text,
            size=_png_size(self.folder / rel),
            caption=markup(inline(str(caption))) if caption else None,
        )
        self.sections.append(figure)

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

    def add_audio(
        self,
        audio: str | Path | Any,
        caption: str | None = None,
        *,
        alt: str | None = None,
        rate: int | None = None,
    ) -> Report:
        """Add a playable audio clip (an ``<audio controls>`` player).

        Parameters
        ----------
        audio : path or array-like
            An audio file a browser plays (wav, ogg, mp3, flac, m4a, webm),
            copied into ``folder/figures/`` like a figure; or a 1-D waveform
            in [-1, 1], written there as a 16-bit WAV (``audio-<n>.wav``).
        caption : str, optional
            Shown under the player (inline Markdown).
        alt : str, optional
            The player's title and its fallback link text (default: the
            caption, else the file name).
        rate : int, optional
            Sampling rate in Hz; needed for a waveform.

        Returns
        -------
        self : Report

        Examples
        --------
        >>> import tempfile
        >>> import numpy as np
        >>> from skmm.report import Report
        >>> silence = np.zeros(800)
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     report = Report(tmp).add_audio(silence, "A <quiet> clip", rate=8000)
        ...     print(report.sections[-1])
        <figure class="audio">
        <audio controls preload="metadata" title="A &lt;quiet&gt; clip">
        <source src="figures/audio-1.wav" type="audio/wav">
        <a href="figures/audio-1.wav">A &lt;quiet&gt; clip</a>
        </audio>
        <figcaption>A &lt;quiet&gt; clip</figcaption>
        </figure>
        """
        from skmm.report._audio import audio_section

        self.sections.append(audio_section(self, audio, caption, alt, rate))
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
            The whole document, ``<!DOCTYPE html>`` to ``</html>``.

        Examples
        --------
        >>> from skmm.report import Report
        >>> page = Report("unused-folder", "A & B").to_html()
        >>> page.startswith("<!DOCTYPE html>"), "<h1>A &amp; B</h1>" in page
        (True, True)
        """
        from skmm import __version__

        page = render(
            "page.html",
            title=self.title,
            version=__version__,
            css=markup(stylesheet()),
            body=markup("\n".join(self.sections)),
        )
        return page + "\n"  # the file's last line ends like the others

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
