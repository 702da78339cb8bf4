"""skmm.utils._docs: docstring fragments filled in at import."""

from __future__ import annotations

import functools
import importlib
import inspect
import pkgutil

import pytest

import skmm
from skmm.utils._docs import fill_doc, placeholders

VERBOSE = {"verbose": "verbose : int, default=1\n    Say more."}


def _public_modules() -> list[str]:
    names = ["skmm"]
    for info in pkgutil.walk_packages(skmm.__path__, "skmm."):
        parts = info.name.split(".")
        if not any(p.startswith("_") for p in parts[1:]):
            names.append(info.name)
    return names


def _public_docs():
    """(name, docstring) of every public module, function, class and the
    methods and properties of the classes."""
    for module_name in _public_modules():
        module = importlib.import_module(module_name)
        yield module_name, module.__doc__
        for name in getattr(module, "__all__", ()):
            obj = getattr(module, name)
            if not (inspect.isclass(obj) or inspect.isroutine(obj)):
                continue
            yield f"{module_name}.{name}", obj.__doc__
            if not inspect.isclass(obj):
                continue
            for attr, member in inspect.getmembers(obj):
                if attr.startswith("_") and attr != "__init__":
                    continue
                if inspect.isroutine(member) or isinstance(member, property):
                    yield f"{module_name}.{name}.{attr}", inspect.getdoc(member)
                    wrapped = inspect.unwrap(member) if callable(member) else None
                    if wrapped is not None and wrapped is not member:
                        yield f"{module_name}.{name}.{attr} (wrapped)", wrapped.__doc__


def test_no_public_docstring_holds_an_unfilled_fragment():
    docs = dict(_public_docs())
    assert len(docs) > 500  # the walk reached the API
    unfilled = {name: placeholders(doc) for name, doc in docs.items()}
    assert {name: found for name, found in unfilled.items() if found} == {}


def test_fill_doc_raises_on_an_unknown_fragment():
    def f():
        """Run.

        Parameters
        ----------
        {verbsoe}
        """

    with pytest.raises(ValueError, match=r"f: unknown docstring fragment \{verbsoe\}"):
        fill_doc(VERBOSE)(f)


def test_fill_doc_indents_like_the_placeholder_line():
    @fill_doc(VERBOSE)
    def f():
        """Run.

        Parameters
        ----------
        {verbose}
        """

    assert inspect.getdoc(f) == (
        "Run.\n\nParameters\n----------\nverbose : int, default=1\n    Say more."
    )


def test_fill_doc_fills_a_class_and_the_methods_it_defines():
    def decorated(func):
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            return func(*args, **kwargs)

        return wrapper

    @fill_doc(VERBOSE, extra="extra : int\n    Own entry.")
    class A:
        """A.

        {verbose}
        {extra}
        """

        def method(self):
            """M.

            {verbose}
            """

        @decorated
        def wrapped(self):
            """W.

            {verbose}
            """

        @classmethod
        def build(cls):
            """B.

            {verbose}
            """

        @property
        def value(self):
            """V.

            {verbose}
            """

    assert inspect.getdoc(A).endswith(
        "verbose : int, default=1\n    Say more.\nextra : int\n    Own entry."
    )
    for member in (A.method, A.wrapped, inspect.unwrap(A.wrapped), A.build, A.value):
        assert placeholders(member.__doc__) == []
        assert "Say more." in member.__doc__


def test_fragments_may_name_fragments_and_later_sets_win():
    @fill_doc(VERBOSE, {"both": "{verbose}\nquiet : bool"}, verbose="verbose : int")
    def f():
        """F.

        {both}
        """

    assert inspect.getdoc(f) == "F.\n\nverbose : int\nquiet : bool"


def test_fill_doc_leaves_other_braces_and_missing_docstrings_alone():
    @fill_doc(VERBOSE)
    def f():
        """Takes {"a": 2} and {verbose} inline; only whole lines are filled."""

    @fill_doc(VERBOSE)
    def g():
        pass

    assert "{verbose}" in f.__doc__
    assert g.__doc__ is None
