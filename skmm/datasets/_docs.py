"""The docstring entries every loader shares, written once.

A loader's docstring names one by a ``{data_home}`` or ``{raises}`` line and
the loader is decorated with ``@fill_doc(LOADER_DOCS)``
(:func:`skmm.utils._docs.fill_doc`).  A loader whose entry says something of
its own (``load_emoji`` raises for a missing style too) writes it out instead.
"""

from __future__ import annotations

__all__ = ["LOADER_DOCS"]

LOADER_DOCS = {
    "data_home": """\
data_home : str or path-like, optional
    See :func:`skmm.datasets.get_data_home`.""",
    "not_fetched": """\
DataNotFoundError
    When the data set has not been fetched.""",
    # the Raises section of a loader that raises nothing else
    "raises": """\
Raises
------
{not_fetched}""",
}
