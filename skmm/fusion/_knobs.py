"""The ``fusion__<knob>`` parameters of the fusion estimators.

A fusion strategy's own settings travel as ``fusion__<knob>`` estimator
parameters (as skorch's ``module__<name>``): this module holds how they are
collected at ``__init__``, shown by ``get_params``, checked by ``set_params``
(a typo raises with a suggestion, against the knobs of every registered
strategy) and resolved at ``fit`` against the chosen strategy's knobs.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Any, TypeVar

from skmm.fusion._base import _PREFIX, _signature_knobs, fusion_knobs

__all__: list[str] = []

_E = TypeVar("_E", bound="_FusionKnobsMixin")


def _did_you_mean(name: str, candidates: list[str]) -> str:
    close = difflib.get_close_matches(name, candidates, n=1)
    return f" Did you mean {close[0]!r}?" if close else ""


def _knobs_of(obj: Any) -> dict[str, Any]:
    """Knobs of a fusion class, or of a factory function with its signature."""
    if isinstance(obj, type):
        return fusion_knobs(obj)
    return _signature_knobs(obj)


def _registered_knobs() -> set[str]:
    """Every knob of every registered fusion (for typo detection)."""
    from skmm.registry import fusions

    known: set[str] = set()
    for name in fusions.names():
        try:
            known |= set(_knobs_of(fusions.get(name)))
        except Exception:  # a broken plugin must not break set_params
            continue
    return known


class _FusionKnobsMixin:
    """``get_params`` / ``set_params`` with the ``fusion__<knob>`` settings.

    The estimator keeps them in ``self._fusion_settings`` (set from
    :meth:`_collect_knobs` in ``__init__``).
    """

    _fusion_settings: dict[str, Any]

    def _collect_knobs(self, fusion_params: Mapping[str, Any]) -> dict[str, Any]:
        """The ``**fusion_params`` of ``__init__``; a key without the prefix
        raises ``TypeError`` as an unknown keyword would."""
        for key in fusion_params:
            if not key.startswith(_PREFIX):
                raise TypeError(
                    f"{type(self).__name__}.__init__() got an unexpected keyword "
                    f"argument {key!r}; a fusion strategy's settings are passed as "
                    f"'fusion__<knob>'." + _did_you_mean(key, self._get_param_names())
                )
        return dict(fusion_params)

    def _fusion_params(self) -> dict[str, Any]:
        return dict(self._fusion_settings)

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """Get parameters, including the ``fusion__<knob>`` settings.

        Parameters
        ----------
        deep : bool, default=True
            Also return the parameters of nested estimators.

        Returns
        -------
        dict
        """
        params = super().get_params(deep=deep)
        params.update(self._fusion_params())
        return params

    def set_params(self: _E, **params: Any) -> _E:
        """Set parameters, including ``fusion__<knob>`` settings.

        A knob is checked against the knobs of every registered strategy
        (a typo raises with a suggestion); whether the chosen strategy takes
        it is checked at ``fit``.

        Parameters
        ----------
        **params : dict
            Estimator parameters.

        Returns
        -------
        self
        """
        valid = self._get_param_names()
        knobs = {k: params.pop(k) for k in list(params) if k.startswith(_PREFIX)}
        if knobs:
            known = _registered_knobs()
            if callable(params.get("fusion", self.fusion)):
                known |= set(_knobs_of(params.get("fusion", self.fusion)))
            for key in knobs:
                if key[len(_PREFIX) :] not in known:
                    raise ValueError(
                        f"Invalid parameter {key!r} for {type(self).__name__}: no "
                        f"registered fusion strategy has a knob "
                        f"{key[len(_PREFIX) :]!r}."
                        + _did_you_mean(key, [_PREFIX + k for k in sorted(known)])
                    )
        for key in params:
            if key not in valid:
                raise ValueError(
                    f"Invalid parameter {key!r} for estimator {type(self).__name__}. "
                    f"Valid parameters are: {valid!r} and 'fusion__<knob>'."
                    + _did_you_mean(key, valid)
                )
        super().set_params(**params)
        self._fusion_settings.update(knobs)
        return self

    def _resolve_fusion(self) -> tuple[Any, dict[str, Any], str]:
        """The fusion class, its knob values and a name for messages."""
        from skmm.registry import fusions

        if isinstance(self.fusion, str):
            cls = fusions.get(self.fusion)
            knobs = fusions.defaults(self.fusion)
            label = f"fusion={self.fusion!r}"
        else:
            cls, knobs = self.fusion, {}
            label = f"fusion={getattr(cls, '__name__', cls)!r}"
        allowed = _knobs_of(cls)
        others = None
        for key, value in self._fusion_params().items():
            knob = key[len(_PREFIX) :]
            if knob in allowed:
                knobs[knob] = value
                continue
            if others is None:
                others = _registered_knobs()
            if knob in others:
                # another strategy's knob: ignored, so one grid can span strategies
                continue
            raise ValueError(
                f"{key!r} is not a setting of {label}; its settings are "
                f"{[_PREFIX + k for k in allowed]}."
                + _did_you_mean(key, [_PREFIX + k for k in allowed])
            )
        return cls, knobs, label
