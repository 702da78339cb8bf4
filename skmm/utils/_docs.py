"""Docstring fragments: numpydoc entries written once, filled in at import.

A docstring names a fragment by a line that holds only ``{name}``, indented
like the lines around it.  :func:`fill_doc` replaces each such line by the
fragment's text, indented the same, in the docstring of a function, or of a
class and of the methods, properties, class- and static methods it defines.
``help()``, the doctests and the API pages (mkdocstrings is set to import the
modules, ``force_inspection`` in ``mkdocs.yml``) then read the full text.  A
name that no fragment set holds is an error at import, so a typo never
reaches the docs.

Fragments are plain ``name -> text`` mappings written flush left (an entry's
first line, then its description indented by four spaces), kept beside the
code they describe: the encoders' shared parameters in ``skmm.base._docs``,
the retrievers' in ``skmm.retrieval._docs``, the ranking metrics' inputs in
``skmm.metrics._ranking``.  A fragment may itself hold ``{name}`` lines.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

__all__ = ["fill_doc", "placeholders"]

T = TypeVar("T")

# a line holding only {name}: group 1 is its indentation, group 2 the name
_PLACEHOLDER = re.compile(r"^([ \t]*)\{(\w+)\}[ \t]*$", re.M)
_MAX_DEPTH = 8  # fragments that name fragments, at most this deep


def placeholders(doc: str | None) -> list[str]:
    """The fragment names a docstring still holds (``{name}`` lines).

    Parameters
    ----------
    doc : str or None
        A docstring (``None`` under ``python -OO``).

    Returns
    -------
    list of str
        The names, in order of appearance.

    Examples
    --------
    >>> placeholders("Parameters\\n----------\\n    {cache}\\n")
    ['cache']
    """
    return [m.group(2) for m in _PLACEHOLDER.finditer(doc or "")]


def _fill(doc: str, fragments: Mapping[str, str], owner: str, depth: int = 0) -> str:
    if depth > _MAX_DEPTH:
        raise ValueError(f"{owner}: docstring fragments nest too deep (a cycle?)")

    def entry(match: re.Match) -> str:
        indent, name = match.groups()
        if name not in fragments:
            known = ", ".join(sorted(fragments)) or "none"
            raise ValueError(
                f"{owner}: unknown docstring fragment {{{name}}} (known: {known})"
            )
        text = _fill(fragments[name].strip("\n"), fragments, owner, depth + 1)
        return textwrap.indent(text, indent)

    return _PLACEHOLDER.sub(entry, doc)


def _targets(obj: Any) -> list[tuple[Any, str]]:
    """``obj`` and, for a class, the callables it defines: (holder, name)."""
    if not isinstance(obj, type):
        return [(obj, getattr(obj, "__qualname__", repr(obj)))]
    found = [(obj, obj.__qualname__)]
    for name, value in vars(obj).items():
        if isinstance(value, (classmethod, staticmethod)):
            value = value.__func__
        if isinstance(value, property):
            found += [(value, f"{obj.__qualname__}.{name}")]
            if value.fget is not None:
                found += [(value.fget, f"{obj.__qualname__}.{name}")]
        elif callable(value) and not isinstance(value, type):
            # a decorated method (functools.wraps) and the function it wraps,
            # which is what inspect.unwrap and the API pages read
            while value is not None:
                found.append((value, f"{obj.__qualname__}.{name}"))
                value = getattr(value, "__wrapped__", None)
    return found


def fill_doc(*sources: Mapping[str, str], **fragments: str) -> Callable[[T], T]:
    """A decorator that fills the ``{name}`` lines of a docstring.

    Parameters
    ----------
    *sources : mapping of str to str
        Fragment sets (``name -> text``); a later set overrides an earlier
        one.
    **fragments : str
        Fragments of the decorated object's own module, overriding the sets.

    Returns
    -------
    callable
        The decorator: it fills the docstring of the function or class it
        is given (and of the methods the class defines) in place, and
        returns it.  A ``{name}`` line whose name is in no fragment set
        raises ``ValueError``.

    Examples
    --------
    >>> import inspect
    >>> VERBOSE = {"verbose": "verbose : int, default=0\\n    Say more."}
    >>> @fill_doc(VERBOSE)
    ... def run(verbose=0):
    ...     '''Run.
    ...
    ...     Parameters
    ...     ----------
    ...     {verbose}
    ...     '''
    >>> print(inspect.getdoc(run))
    Run.
    <BLANKLINE>
    Parameters
    ----------
    verbose : int, default=0
        Say more.
    """
    table = {k: v for source in sources for k, v in source.items()}
    table.update(fragments)

    def fill(obj: T) -> T:
        for holder, owner in _targets(obj):
            doc = getattr(holder, "__doc__", None)
            if doc and placeholders(doc):  # None under python -OO
                holder.__doc__ = _fill(doc, table, owner)
        return obj

    return fill
