"""Fine-tuning pretrained encoders: trainable towers and the frozen-prefix store.

A tower is a fitted encoder cut in two: a frozen *prefix*, whose output for
each item is computed once and kept (:class:`PrefixStore`: in memory, and
on disk when the encoder has ``cache=``), and a trainable *suffix* (the last
transformer layers or CNN blocks) that runs at every step.  The estimators
that fine-tune — :class:`skmm.retrieval.TwoTowerRetriever` and
:class:`skmm.fusion.FusionClassifier` / ``FusionRegressor`` with
``encoders=`` — build their towers with :func:`make_tower`.

``import skmm.finetune`` imports torch (``import skmm`` alone does not).

Plugin encoders take part by a ``_make_tower(unfreeze, **options)`` method
that returns a :class:`BaseTower`; without one an encoder is a locked tower
(its embeddings feed a trained projection head).

Examples
--------
>>> from skmm.finetune import resolve_unfreeze
>>> resolve_unfreeze("all", depth=6, modality="text", owner="demo")
6
>>> resolve_unfreeze(8, depth=6, modality="text", owner="demo")
Traceback (most recent call last):
...
ValueError: demo: unfreeze=8 for the 'text' tower, but its model has only 6 ...
"""

from __future__ import annotations

from skmm.finetune._image_tower import ImageTower, augment_image
from skmm.finetune._prefix import (
    PrefixStore,
    clear_prefix_memory,
    prefix_stats,
    reset_prefix_stats,
)
from skmm.finetune._text_tower import TextTower
from skmm.finetune._towers import (
    BaseTower,
    LockedTower,
    make_tower,
    resolve_unfreeze,
)

__all__ = [
    "BaseTower",
    "ImageTower",
    "LockedTower",
    "PrefixStore",
    "TextTower",
    "augment_image",
    "clear_prefix_memory",
    "make_tower",
    "prefix_stats",
    "reset_prefix_stats",
    "resolve_unfreeze",
]
