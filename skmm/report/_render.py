"""Rendering: the Jinja2 templates in ``templates/`` and what fills them.

Every value a template prints is HTML-escaped (by :func:`html.escape`, so
quotes read ``&quot;`` as they always have), except the fragments the report
built itself, passed as :class:`~markupsafe.Markup`: Markdown turned into
HTML, rendered tables, the sections of a page.
"""

from __future__ import annotations

import functools
import html
from typing import Any

__all__ = ["markup", "render", "stylesheet"]


def _escape(value: Any) -> Any:
    from markupsafe import Markup

    if isinstance(value, Markup):
        return value
    return Markup(html.escape(str(value)))


@functools.cache
def _environment() -> Any:
    import jinja2

    return jinja2.Environment(
        loader=jinja2.PackageLoader("skmm.report", "templates"),
        autoescape=True,
        finalize=_escape,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )


def render(name: str, **context: Any) -> str:
    """Fill the template ``name`` with ``context``.

    Parameters
    ----------
    name : str
        A file in ``skmm/report/templates/``.
    **context
        The template's variables; strings are escaped, :func:`markup`
        fragments are not.

    Returns
    -------
    str
        The HTML (without the template file's final newline).
    """
    return str(_environment().get_template(name).render(**context))


def markup(fragment: str) -> Any:
    """``fragment``, an HTML fragment the report built, as
    :class:`markupsafe.Markup`: a template prints it as it is."""
    from markupsafe import Markup

    return Markup(fragment)


@functools.cache
def stylesheet() -> str:
    """The page's CSS (``templates/style.css``), to inline in its ``<style>``."""
    env = _environment()
    return env.loader.get_source(env, "style.css")[0]
