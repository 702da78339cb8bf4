"""The demo's data: the emoji concepts, their encodings, and the tables the
retrievers and the fusion models are fitted on."""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from skmm.demo._console import table

__all__ = [
    "encode_concepts",
    "features_frame",
    "fusion_table",
    "load_concepts",
    "raw_table",
]


def load_concepts(n_concepts: int | None, seed: int) -> tuple[np.ndarray, Any, Any]:
    """The concepts drawn by both Noto and OpenMoji (``n_concepts`` of them,
    drawn at random, or all); fetches the data set on first use.

    Returns
    -------
    concepts : ndarray
        The concept ids, sorted.
    noto, openmoji : DataFrame
        One row per concept (indexed by concept id, in ``concepts`` order):
        its name, group and the style's drawing.
    """
    from skmm.datasets import DataNotFoundError, fetch, load_emoji

    try:
        df = load_emoji(styles=("noto", "openmoji"), size=128)
    except DataNotFoundError:
        print("  the emoji data set is not built yet: fetching it (one time)")
        fetch("emoji")
        df = load_emoji(styles=("noto", "openmoji"), size=128)
    concepts = np.array(sorted(df["concept_id"].unique()))
    if n_concepts is not None and n_concepts < len(concepts):
        rng = np.random.RandomState(seed)
        concepts = np.sort(rng.choice(concepts, n_concepts, replace=False))
    df = df[df["concept_id"].isin(concepts)]
    noto = df[df["style"] == "noto"].set_index("concept_id").loc[concepts]
    openmoji = df[df["style"] == "openmoji"].set_index("concept_id").loc[concepts]
    return concepts, noto, openmoji


def _timed(name: str, encoder: Any, X: Any, timings: dict) -> np.ndarray:
    t0 = time.perf_counter()
    out = encoder.fit_transform(X)
    timings[name] = (time.perf_counter() - t0, len(out), out.shape[1])
    return out


def encode_concepts(noto: Any, openmoji: Any) -> tuple:
    """Names with MiniLM, both styles' drawings with MobileNetV2 (cached).

    Prints the encoders' speed and the cache's hits.

    Returns
    -------
    text, noto_images, openmoji_images : ndarray
        One row per concept.
    rows : list of list of str
        The printed table (encoder, output, seconds, items/s).
    stats : dict
        The embedding cache's ``hits`` and ``misses``.
    """
    import pandas as pd

    from skmm.cache import cache_stats, reset_cache_stats
    from skmm.image import ImageEncoder
    from skmm.text import TextEncoder

    reset_cache_stats()
    text_enc = TextEncoder("minilm", cache=True)
    image_enc = ImageEncoder("mobilenet_v2", size=128, cache=True, on_error="nan")
    timings: dict[str, tuple[float, int, int]] = {}
    names = pd.Series(noto["name"].tolist(), name="name")
    text = _timed("MiniLM (names)", text_enc, names, timings)
    drawings = pd.Series(list(noto["image"]) + list(openmoji["image"]), name="image")
    images = _timed("MobileNetV2 (pictures)", image_enc, drawings, timings)
    n = len(noto)
    rows = [
        [name, f"{items} x {width}", f"{secs:.1f}", f"{items / max(secs, 1e-9):,.0f}"]
        for name, (secs, items, width) in timings.items()
    ]
    print(table(rows, ["encoder", "output", "seconds", "items/s"]))
    stats = cache_stats()
    print(
        f"  embedding cache: {stats['hits']} hits, {stats['misses']} computed "
        "(a second run computes nothing)"
    )
    return text, images[:n], images[n:], rows, stats


def features_frame(text: np.ndarray, image: np.ndarray, dtype: Any = None) -> Any:
    """The encodings side by side as ``text__f<j>`` and ``image__f<j>`` columns."""
    import pandas as pd

    cols = [f"text__f{j}" for j in range(text.shape[1])] + [
        f"image__f{j}" for j in range(image.shape[1])
    ]
    values = np.hstack([text, image])
    return pd.DataFrame(values if dtype is None else values.astype(dtype), columns=cols)


def fusion_table(text: np.ndarray, noto_img: np.ndarray, om_img: np.ndarray) -> Any:
    """Each name with its Noto drawing, then again with its OpenMoji one."""
    return features_frame(
        np.vstack([text, text]), np.vstack([noto_img, om_img]), dtype=np.float32
    )


def raw_table(noto: Any, openmoji: Any) -> Any:
    """The same rows as :func:`fusion_table`, as raw names and drawings."""
    import pandas as pd

    names = noto["name"].astype(str).tolist()
    return pd.DataFrame(
        {
            "raw_text": names + names,
            "raw_image": list(noto["image"]) + list(openmoji["image"]),
        }
    )
