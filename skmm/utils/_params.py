"""Estimator parameters declared once, as annotated class attributes.

scikit-learn reads an estimator's parameters from the signature of its
``__init__``, which must store each argument unchanged under its own name.
Written by hand, every parameter then stands three times (signature,
assignment, docstring), and the parameters every encoder shares (``cache``,
``on_error``, ``verbose``, ...) stand again in every encoder.  Here a class
states each parameter once, as ``name: annotation = default`` in its body, and
:func:`estimator_init` writes the ``__init__`` scikit-learn expects from them:

* the class's own parameters come first, in the order of the class body,
  then those of its bases (a :func:`param_group`, or another class given an
  ``__init__`` here), in their order; a class that states an inherited name
  again changes its default and annotation, not its place;
* parameters are keyword-only, except those stated before a ``_: KW_ONLY``
  line (``dataclasses.KW_ONLY``), which are positional-or-keyword;
* names starting with ``_`` and ``ClassVar`` annotations are not parameters;
* a class method ``_init_written`` of the class, if there is one, is called
  once the ``__init__`` is in place (``BaseEncoder`` keeps the parameter
  constraints of the parameters the class takes there);
* the generated ``__init__`` has a real signature (``inspect.signature``,
  ``get_params``, ``clone``, ``help()`` and the API pages read it) and only
  stores its arguments: no logic, as scikit-learn requires.

The defaults are removed from the class namespace, so the class holds its
methods alone, as before; :func:`declared_params` lists what was declared.
"""

from __future__ import annotations

import abc
import dataclasses
import inspect
from collections.abc import Callable
from typing import Any, NamedTuple, TypeVar

__all__ = ["Param", "declared_params", "estimator_init", "param_group"]

T = TypeVar("T", bound=type)

_ATTR = "_declared_params"  # a private name: the API pages skip it
_EMPTY = inspect.Parameter.empty


class Param(NamedTuple):
    """One declared parameter."""

    name: str
    annotation: Any
    default: Any
    positional: bool


def declared_params(cls: type) -> tuple[Param, ...]:
    """The parameters ``cls`` declares, in ``__init__`` order.

    Parameters
    ----------
    cls : type
        A class decorated with :func:`estimator_init` or :func:`param_group`,
        or a subclass of one.

    Returns
    -------
    tuple of Param
        Empty for any other class.

    Examples
    --------
    >>> @param_group
    ... class Shared:
    ...     verbose: int = 0
    >>> [p.name for p in declared_params(Shared)]
    ['verbose']
    """
    return getattr(cls, _ATTR, ())


def _is_kw_only_marker(annotation: Any) -> bool:
    return annotation is dataclasses.KW_ONLY or annotation in (
        "KW_ONLY",
        "dataclasses.KW_ONLY",
    )


def _is_class_var(annotation: Any) -> bool:
    text = annotation if isinstance(annotation, str) else repr(annotation)
    return text.startswith(("ClassVar", "typing.ClassVar"))


def _collect(cls: type) -> tuple[Param, ...]:
    annotations = cls.__dict__.get("__annotations__", {})
    n_markers = sum(_is_kw_only_marker(a) for a in annotations.values())
    if n_markers > 1:
        raise TypeError(f"{cls.__qualname__}: more than one KW_ONLY line")
    # positional before the marker; without one, every own one is keyword-only
    positional = n_markers == 1
    own: list[Param] = []
    for name, annotation in annotations.items():
        if _is_kw_only_marker(annotation):
            positional = False
            continue
        if name.startswith("_") or _is_class_var(annotation):
            continue
        default = cls.__dict__.get(name, _EMPTY)
        if callable(default) and not isinstance(default, type):
            raise TypeError(
                f"{cls.__qualname__}.{name}: a parameter's default cannot be a "
                "function or method (is the name also a method?)"
            )
        own.append(Param(name, annotation, default, positional))

    inherited: dict[str, Param] = {}
    for base in cls.__bases__:
        for p in declared_params(base):
            inherited.setdefault(p.name, p)
    overrides = {p.name: p for p in own if p.name in inherited}
    params = [p for p in own if p.name not in inherited]
    params += [overrides.get(name, p) for name, p in inherited.items()]

    positional_first = [p for p in params if p.positional]
    keyword = [p for p in params if not p.positional]
    required_after_default = False
    for p in positional_first:
        if p.default is _EMPTY and required_after_default:
            raise TypeError(
                f"{cls.__qualname__}: positional parameter {p.name!r} has no "
                "default but follows one that has"
            )
        required_after_default |= p.default is not _EMPTY
    for p in own:  # the class namespace keeps its methods only
        if p.name in cls.__dict__:
            delattr(cls, p.name)
    return tuple(positional_first + keyword)


def _write_init(cls: type, params: tuple[Param, ...]) -> Callable[..., None]:
    namespace: dict[str, Any] = {}
    args = ["self"]
    starred = False
    for p in params:
        if not p.positional and not starred:
            args.append("*")
            starred = True
        if p.default is _EMPTY:
            args.append(p.name)
        else:
            namespace[f"_default_{p.name}"] = p.default
            args.append(f"{p.name}=_default_{p.name}")
    body = [f"    self.{p.name} = {p.name}" for p in params] or ["    pass"]
    source = f"def __init__({', '.join(args)}):\n" + "\n".join(body) + "\n"
    exec(source, namespace)  # noqa: S102 - our own names and defaults only
    init = namespace["__init__"]
    init.__annotations__ = {p.name: p.annotation for p in params}
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__module__ = cls.__module__
    init.__doc__ = None
    return init


def param_group(cls: T) -> T:
    """Declare parameters that estimators inherit, without an ``__init__``.

    Parameters
    ----------
    cls : type
        A mixin whose body holds ``name: annotation = default`` lines.

    Returns
    -------
    type
        ``cls``, its parameters recorded (see :func:`declared_params`).

    Examples
    --------
    >>> @param_group
    ... class Shared:
    ...     cache: str | None = None
    ...     verbose: int = 1
    >>> @estimator_init
    ... class Encoder(Shared):
    ...     size: int = 16
    >>> Encoder(verbose=0).__dict__
    {'size': 16, 'cache': None, 'verbose': 0}
    """
    setattr(cls, _ATTR, _collect(cls))
    return cls


def estimator_init(cls: T) -> T:
    """Give ``cls`` the ``__init__`` its declared parameters call for.

    Parameters
    ----------
    cls : type
        A class whose body holds ``name: annotation = default`` lines, and
        whose bases may be :func:`param_group` mixins.

    Returns
    -------
    type
        ``cls`` with a generated ``__init__`` that stores every parameter
        under its name (see the module notes for the order).

    Raises
    ------
    TypeError
        When ``cls`` defines ``__init__`` itself, or a positional parameter
        without a default follows one with a default.

    Examples
    --------
    >>> import inspect
    >>> from dataclasses import KW_ONLY
    >>> from sklearn.base import BaseEstimator
    >>> @estimator_init
    ... class Scaler(BaseEstimator):
    ...     model: str
    ...     _: KW_ONLY
    ...     factor: float = 2.0
    >>> inspect.signature(Scaler)
    <Signature (model: 'str', *, factor: 'float' = 2.0)>
    >>> Scaler("m", factor=3.0)
    Scaler(factor=3.0, model='m')
    """
    if "__init__" in cls.__dict__:
        raise TypeError(
            f"{cls.__qualname__} defines __init__; declare its parameters as "
            "annotated class attributes instead"
        )
    params = _collect(cls)
    setattr(cls, _ATTR, params)
    cls.__init__ = _write_init(cls, params)  # type: ignore[misc]
    # a base's abstract __init__ (sklearn's BaseSearchCV) is implemented now
    abc.update_abstractmethods(cls)
    hook = getattr(cls, "_init_written", None)
    if hook is not None:  # what a base does once a class has its __init__
        hook()
    return cls
