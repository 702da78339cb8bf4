"""The cheap parameter sets an estimator offers the common checks, as data.

The estimator checks (``tests/test_common.py`` and the modalities' own) build
one instance per set that ``get_test_params()`` returns.  A class that takes
:class:`CheapParamsMixin` states its sets once, as the ``_test_params`` table,
instead of writing the method again; an empty table says that no set is
cheap (an encoder that needs a model folder or an optional package, whose
notes say how the tests build one).
"""

from __future__ import annotations

from typing import Any, ClassVar

__all__ = ["CheapParamsMixin"]


class CheapParamsMixin:
    """``get_test_params()`` from the class's ``_test_params`` table."""

    _test_params: ClassVar[tuple[dict[str, Any], ...]]

    @classmethod
    def get_test_params(cls) -> list[dict[str, Any]]:
        """Cheap parameter sets for the common estimator checks.

        Returns
        -------
        list of dict
            Copies of the class's sets; empty when none is cheap (the class
            notes say why).

        Examples
        --------
        >>> class Tiny(CheapParamsMixin):
        ...     _test_params = ({"size": 2, "verbose": 0},)
        >>> Tiny.get_test_params()
        [{'size': 2, 'verbose': 0}]
        """
        return [dict(p) for p in cls._test_params]
