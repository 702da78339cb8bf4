"""Optional dependencies that fail late and kindly (Optuna's ``try_import``)."""

from __future__ import annotations

import importlib
from types import ModuleType

from skmm.exceptions import MissingDependencyError

__all__ = ["import_optional"]


def import_optional(
    module: str, *, extra: str | None = None, package: str | None = None
) -> ModuleType:
    """Import ``module`` or raise an error that says how to install it.

    Parameters
    ----------
    module : str
        Dotted module name, e.g. ``"faiss"``.
    extra : str, optional
        The skmm extra that provides it (``pip install "skmm[extra]"``).
    package : str, optional
        The PyPI distribution name when it differs from the module name.

    Examples
    --------
    >>> import_optional("json").__name__
    'json'
    >>> import_optional("no_such_module_xyz", extra="faiss")
    Traceback (most recent call last):
    ...
    skmm.exceptions.MissingDependencyError: ... pip install "skmm[faiss]"
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        pkg = package or module.split(".")[0]
        if extra is not None:
            hint = f'pip install "skmm[{extra}]"'
        else:
            hint = f"pip install {pkg}"
        raise MissingDependencyError(
            f"The optional dependency {pkg!r} is required for this feature but "
            f"could not be imported ({exc}). Install it with: {hint}"
        ) from exc


def import_pyplot() -> ModuleType:
    """``matplotlib.pyplot`` with a non-interactive backend (Agg unless one
    was chosen), or an error naming the ``plot`` extra.

    Examples
    --------
    >>> plt = import_pyplot()  # doctest: +SKIP
    """
    matplotlib = import_optional("matplotlib", extra="plot")
    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt
