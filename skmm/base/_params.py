"""The parameters encoders share, declared once.

An encoder states its own parameters as annotated class attributes and takes
one of the public groups below as a base;
:func:`~skmm.utils._params.estimator_init` then writes its ``__init__``: its
own parameters first, the group's after them, in the order below.  A class
that states a group's name again (most set their own ``batch_size``) changes
the default, not the place.  Each parameter is declared once, in one of the
private groups, which the public ones put in order.  The constraints of these
parameters are in ``BaseEncoder._parameter_constraints``, their docstring
entries in :mod:`skmm.base._docs`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from skmm.utils._params import param_group

__all__ = ["DeviceEncoderParams", "EncoderParams", "PretrainedEncoderParams"]


@param_group
class _BatchSizeParam:
    batch_size: int = 32


@param_group
class _DeviceParam:
    device: Any = "auto"


@param_group
class _CacheErrorsVerboseParams:
    cache: bool | str | Path | None = None
    on_error: str = "raise"
    verbose: int = 1


@param_group
class _PickleWeightsParam:
    pickle_weights: bool = False


@param_group
class EncoderParams(_BatchSizeParam, _CacheErrorsVerboseParams):
    """``batch_size``, ``cache``, ``on_error``, ``verbose``: every encoder's."""


@param_group
class DeviceEncoderParams(_BatchSizeParam, _DeviceParam, _CacheErrorsVerboseParams):
    """:class:`EncoderParams` and the ``device`` a model runs on, after
    ``batch_size``."""


@param_group
class PretrainedEncoderParams(DeviceEncoderParams, _PickleWeightsParam):
    """:class:`DeviceEncoderParams` and ``pickle_weights``: pretrained models'."""
