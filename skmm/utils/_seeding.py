"""One int seed from an sklearn ``random_state``."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.utils import check_random_state

__all__ = ["seed_from"]


def seed_from(random_state: Any) -> int:
    """The torch seed of an estimator's ``random_state`` (int, RandomState
    or None), drawn as sklearn draws sub-seeds.

    Examples
    --------
    >>> seed_from(0) == seed_from(0)
    True
    """
    return int(check_random_state(random_state).randint(np.iinfo(np.int32).max))
