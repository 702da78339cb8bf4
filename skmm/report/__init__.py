"""Reports: one folder with an ``index.html`` page and its PNG figures.

- :class:`Report`: add text (a small Markdown subset), tables (pandas
  DataFrames, numbers rounded, the best value per column in bold), figures
  (PNG files or matplotlib figures) and retrieval galleries, then
  :meth:`~Report.write` a self-contained page (CSS inline, no external URL)
  that opens offline from ``file://``;
- :func:`save_retrieval_gallery`: one PNG with, for each text query, its
  top-ranked images, the correct one framed in green; returns the rank of the
  correct item per query.

The figures need matplotlib (``pip install "skmm[plot]"``); the page is
drawn by Jinja2 templates (``skmm/report/templates/``).
"""

from skmm.report._format import format_number
from skmm.report._gallery import save_retrieval_gallery
from skmm.report._markdown import markdown_to_html
from skmm.report._page import Report
from skmm.report._table import dataframe_to_html

__all__ = [
    "Report",
    "dataframe_to_html",
    "format_number",
    "markdown_to_html",
    "save_retrieval_gallery",
]
