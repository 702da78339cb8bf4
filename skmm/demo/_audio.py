"""The demo's audio step: a few of Tux Paint's spoken descriptions, heard by
Whisper and searched among the stamp captions with MiniLM.

The step is skipped, with a note saying why, when the ``tuxpaint`` data set
has not been fetched or the ``speech`` extra is not installed.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["N_AUDIO_QUERIES", "audio_queries", "audio_report"]

#: Spoken descriptions the demo plays and searches with.
N_AUDIO_QUERIES = 4
_TOP = 3


def _skip(why: str) -> dict[str, Any]:
    print(f"  skipped: {why}")
    return {"skipped": why}


def _unit(x: np.ndarray) -> np.ndarray:
    return x / np.linalg.norm(x, axis=1, keepdims=True).clip(1e-12)


def audio_queries(seed: int = 0, n: int = N_AUDIO_QUERIES) -> dict[str, Any]:
    """Transcribe ``n`` spoken descriptions and find their stamps by caption.

    Parameters
    ----------
    seed : int, default=0
        Which descriptions are drawn.
    n : int, default=4
        How many.

    Returns
    -------
    dict
        ``{"skipped": why}`` when the data or the extra is absent; else
        ``queries`` (one dict per clip: ``audio``, ``caption``, ``heard``,
        ``top`` (the best captions), ``rank`` (of the stamp's own caption
        among all captions, 1 = first)) and ``n_gallery``.
    """
    from skmm.datasets import DataNotFoundError, load_tuxpaint, load_tuxpaint_audio
    from skmm.exceptions import MissingDependencyError, MissingModelError

    try:
        speech = load_tuxpaint_audio("speech")
        stamps = load_tuxpaint()
    except DataNotFoundError:
        return _skip(
            "the tuxpaint data set is not fetched "
            "(python -m skmm.datasets fetch tuxpaint)"
        )
    from skmm.audio import SpeechTranscriber
    from skmm.text import TextEncoder

    rng = np.random.default_rng(seed)
    picked = speech.iloc[np.sort(rng.choice(len(speech), size=n, replace=False))]
    try:
        heard = SpeechTranscriber(temperature=0.0, verbose=0).fit_transform(
            picked["audio"]
        )
    except (MissingDependencyError, MissingModelError) as exc:
        return _skip(f"no speech model ({exc}); pip install 'skmm[speech]'")
    heard = ["" if h is None else str(h) for h in np.asarray(heard).ravel()]
    text = TextEncoder("minilm", verbose=0)
    captions = stamps["caption"].tolist()
    gallery = _unit(text.fit_transform(captions))
    queries = _unit(np.nan_to_num(text.transform(heard)))  # silence: zeros
    sims = queries @ gallery.T
    order = np.argsort(-sims, axis=1, kind="stable")
    out = []
    for i, (_, row) in enumerate(picked.iterrows()):
        own = np.flatnonzero(np.asarray(captions) == row["caption"])
        rank = int(np.flatnonzero(np.isin(order[i], own))[0]) + 1
        top = [captions[j] for j in order[i, :_TOP]]
        out.append(
            {
                "audio": row["audio"],
                "caption": row["caption"],
                "heard": heard[i],
                "top": top,
                "rank": rank,
            }
        )
        print(
            f"  {row['caption']!r:28} heard {heard[i]!r:24} -> {top[0]!r} "
            f"(own caption at rank {rank})"
        )
    return {"queries": out, "n_gallery": len(captions)}


def audio_report(rep: Any, audio: dict[str, Any]) -> None:
    """Add the audio section to the report: a player per spoken query."""
    if "skipped" in audio:
        rep.add_text(f"**Spoken queries.** Skipped: {audio['skipped']}.")
        return
    hits = sum(q["rank"] == 1 for q in audio["queries"])
    rep.add_text(
        "**Spoken queries.** Tux Paint's recorded descriptions, transcribed by "
        "`SpeechTranscriber` (Whisper tiny.en) and searched among the "
        f"{audio['n_gallery']} stamp captions with MiniLM: the stamp's own "
        f"caption first for {hits} of {len(audio['queries'])}."
    )
    for q in audio["queries"]:
        top = "; ".join(f"{i}. {c}" for i, c in enumerate(q["top"], 1))
        rep.add_audio(
            q["audio"],
            caption=(
                f"Says *{q['caption']}*, heard “{q['heard']}”; best captions: "
                f"{top} (own caption at rank {q['rank']})"
            ),
            alt=f"spoken description: {q['caption']}",
        )
