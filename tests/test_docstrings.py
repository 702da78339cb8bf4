"""Every public estimator documents exactly its parameters, in signature order.

numpydoc's PR01 (undocumented), PR02 (unknown) and PR03 (wrong order),
checked on the docstrings as users read them: after ``fill_doc`` has filled
in the shared fragments, and against the signature that ``estimator_init``
writes from the declared parameters.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re

import pytest
from sklearn.base import BaseEstimator

import skmm

_SECTION = re.compile(
    r"Parameters\n-+\n(?P<body>.*?)(?:\n\n[A-Z][a-z]+(?: [A-Z][a-z]+)?\n-+\n|\Z)",
    re.S,
)
_ENTRY = re.compile(r"^(\*{0,2}\w+(?:, \w+)*)(?: : |$)")


def _public_estimators() -> list[type]:
    """The estimators the public subpackages export (``__all__``)."""
    found = {}
    for info in pkgutil.iter_modules(skmm.__path__, "skmm."):
        if info.name.split(".")[-1].startswith("_"):
            continue
        try:
            module = importlib.import_module(info.name)
        except ImportError:  # an optional extra that is not installed
            continue
        for name in getattr(module, "__all__", ()):
            obj = getattr(module, name, None)
            if (
                inspect.isclass(obj)
                and issubclass(obj, BaseEstimator)
                # parameters skmm declares, not those of a scikit-learn base
                and getattr(obj.__init__, "__module__", "").startswith("skmm")
            ):
                found[f"{obj.__module__}.{name}"] = obj
    return [found[k] for k in sorted(found)]


def _documented(cls: type) -> list[str]:
    match = _SECTION.search(inspect.cleandoc(cls.__doc__ or ""))
    if match is None:
        return []
    names = []
    for line in match.group("body").split("\n"):
        entry = _ENTRY.match(line)
        if entry:
            names += [n.strip("*") for n in entry.group(1).split(", ")]
    return names


_ESTIMATORS = _public_estimators()


def test_the_public_estimators_are_found():
    names = {cls.__name__ for cls in _ESTIMATORS}
    assert {"TextEncoder", "ImageEncoder", "FusionClassifier"} <= names
    assert len(_ESTIMATORS) >= 25


@pytest.mark.parametrize("cls", _ESTIMATORS, ids=lambda c: c.__name__)
def test_parameters_are_documented_in_signature_order(cls):
    assert _documented(cls) == list(inspect.signature(cls).parameters)
