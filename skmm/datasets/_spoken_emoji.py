"""Spoken emoji names, synthesised with Debian's espeak-ng.

Sources: the Debian packages ``espeak-ng`` (the program), ``libespeak-ng1``,
``espeak-ng-data`` (voices and dictionaries; GPL-3.0-or-later),
``libpcaudio0`` (GPL-3.0-or-later) and ``libsonic0`` (Apache-2.0), taken with
``apt-get download`` and unpacked with ``dpkg-deb -x`` (not installed); the
unpacked program is run with ``LD_LIBRARY_PATH`` and ``ESPEAK_DATA_PATH``
pointing into the data home.  The names are those of the ``emoji`` data set
(fetched first when absent).  ``libpcaudio0`` links ``libasound2`` and
``libpulse0``, which every desktop Debian or Ubuntu has.
"""

from __future__ import annotations

import os
import stat
import subprocess
import wave
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from skmm.datasets._base import dataset_folder, fetch
from skmm.datasets._docs import LOADER_DOCS
from skmm.datasets._sources import Source
from skmm.utils._docs import fill_doc

__all__ = ["VOICES", "load_spoken_emoji"]

#: espeak-ng voices (language + voice variant): four accents, both registers.
VOICES = ("en-us+m3", "en-gb+f2", "en-gb-scotland+m1", "en-029+f4")
#: Speaking rates in words per minute.
SPEEDS = (125, 155, 185)
#: Takes per concept: each in a different voice, at a random speed.
TAKES = 2
SEED = 0

SOURCES = (
    Source("apt", "espeak-ng", "GPL-3.0-or-later", "usr/bin/espeak-ng"),
    Source(
        "apt",
        "libespeak-ng1",
        "GPL-3.0-or-later",
        "usr/share/doc/libespeak-ng1/copyright",
    ),
    Source(
        "apt",
        "espeak-ng-data",
        "GPL-3.0-or-later",
        "usr/share/doc/espeak-ng-data/copyright",
    ),
    Source(
        "apt", "libpcaudio0", "GPL-3.0-or-later", "usr/share/doc/libpcaudio0/copyright"
    ),
    Source("apt", "libsonic0", "Apache-2.0", "usr/share/doc/libsonic0/copyright"),
)


def _espeak_env(roots: dict[str, Path]) -> tuple[Path, dict[str, str]]:
    """The unpacked espeak-ng program and the environment that runs it."""
    binary = roots["espeak-ng"] / "usr/bin/espeak-ng"
    mode = binary.stat().st_mode
    if not mode & stat.S_IXUSR:  # unpacked by the pure-Python .deb reader
        binary.chmod(mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    libs: list[str] = []
    for pkg in ("libespeak-ng1", "libpcaudio0", "libsonic0"):
        libs += sorted(str(p.parent) for p in roots[pkg].glob("usr/lib/*/lib*.so*"))
    found = sorted(roots["espeak-ng-data"].glob("usr/lib/*/espeak-ng-data"))
    found += sorted(roots["espeak-ng-data"].glob("usr/share/espeak-ng-data"))
    if not found:
        raise FileNotFoundError(
            f"espeak-ng-data unpacked at {roots['espeak-ng-data']} holds no "
            "espeak-ng-data folder"
        )
    env = dict(os.environ)
    paths = list(dict.fromkeys(libs)) + [env.get("LD_LIBRARY_PATH", "")]
    env["LD_LIBRARY_PATH"] = os.pathsep.join(p for p in paths if p)
    env["ESPEAK_DATA_PATH"] = str(found[0].parent)
    return binary, env


def _plan(concepts: pd.DataFrame) -> pd.DataFrame:
    """One row per clip: ``TAKES`` distinct voices per concept, random speeds."""
    rng = np.random.default_rng(SEED)
    rows = []
    for rec in concepts.itertuples(index=False):
        voices = rng.choice(len(VOICES), size=TAKES, replace=False)
        speeds = rng.choice(SPEEDS, size=TAKES)
        for take, (v, s) in enumerate(zip(voices, speeds)):
            rows.append(
                {
                    "clip_id": f"{rec.concept_id}-{take}",
                    "concept_id": rec.concept_id,
                    "name": rec.name,
                    "group": rec.group,
                    "voice": VOICES[v],
                    "speed": int(s),
                    "take": take,
                }
            )
    return pd.DataFrame(rows)


def _wav_seconds(path: Path) -> float:
    with wave.open(str(path), "rb") as w:
        return w.getnframes() / float(w.getframerate())


def _synthesise(
    binary: Path, env: dict[str, str], text: str, voice: str, speed: int, out: Path
) -> str | None:
    """Write ``text`` spoken as a WAV at ``out``; the error text, or None."""
    cmd = [str(binary), "-v", voice, "-s", str(speed), "-w", str(out), "--stdin"]
    proc = subprocess.run(
        cmd, input=text, env=env, capture_output=True, text=True, check=False
    )
    if proc.returncode != 0 or not out.exists():
        return (proc.stderr or proc.stdout or f"exit {proc.returncode}").strip()
    return None


def _concepts(home: Path, say: Callable[[str], None]) -> pd.DataFrame:
    """Emoji concepts (no skin tones) that at least one style draws."""
    folder = home / "emoji"
    if not (folder / "manifest.json").exists():
        say("spoken_emoji: the emoji names come from the emoji data set; fetching it")
        fetch("emoji", data_home=home)
    meta = pd.read_csv(
        folder / "concepts.csv",
        dtype={"concept_id": str},
        keep_default_na=False,
        na_values=[""],
    )
    drawn = meta[[c for c in meta.columns if c.startswith("has_")]].any(axis=1)
    return meta[drawn & ~meta["skin_tone"].astype(bool)].reset_index(drop=True)


def _build(
    roots: dict[str, Path], folder: Path, say: Callable[[str], None]
) -> dict[str, Any]:
    binary, env = _espeak_env(roots)
    plan = _plan(_concepts(folder.parent, say))
    clips = folder / "clips"
    clips.mkdir(parents=True, exist_ok=True)
    files = [clips / f"{cid}.wav" for cid in plan["clip_id"]]
    say(f"spoken_emoji: synthesising {len(plan)} clips with {binary}")
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        errors = list(
            pool.map(
                lambda a: _synthesise(binary, env, *a),
                zip(plan["name"], plan["voice"], plan["speed"], files),
            )
        )
    failed = [f"{c}: {e}" for c, e in zip(plan["clip_id"], errors) if e is not None]
    if len(failed) == len(plan):
        raise RuntimeError(f"espeak-ng produced no clip; first error: {failed[0]}")
    ok = np.array([e is None for e in errors])
    plan = plan[ok].reset_index(drop=True)
    plan["file"] = [f"clips/{c}.wav" for c in plan["clip_id"]]
    plan["duration"] = [_wav_seconds(folder / f) for f in plan["file"]]
    plan.to_csv(folder / "clips.csv", index=False)
    with wave.open(str(folder / plan.loc[0, "file"]), "rb") as w:
        rate = w.getframerate()
    return {
        "clips": len(plan),
        "concepts": int(plan["concept_id"].nunique()),
        "voices": list(VOICES),
        "speeds": list(SPEEDS),
        "takes_per_concept": TAKES,
        "sampling_rate": rate,
        "seconds_of_audio": round(float(plan["duration"].sum()), 1),
        "failed": failed,
    }


@fill_doc(LOADER_DOCS)
def load_spoken_emoji(
    *,
    voices: Sequence[str] | None = None,
    data_home: str | os.PathLike[str] | None = None,
) -> pd.DataFrame:
    """Load emoji names spoken by espeak-ng in several voices and speeds.

    Every emoji concept of :func:`skmm.datasets.load_emoji` (without skin
    tones) is spoken twice, by two different voices among four English
    accents (American, British, Scottish, Caribbean; male and female
    variants) at a random rate of 125, 155 or 185 words per minute (seeded,
    so every build is identical): about 3,800 WAV clips (22,050 Hz, mono)
    synthesised by Debian's ``espeak-ng`` into the data home.  Join with
    :func:`skmm.datasets.load_emoji` on ``concept_id`` for the drawings.
    Run ``skmm.datasets.fetch("spoken_emoji")`` first (it builds the emoji
    data set too when absent; the synthesis took 10 s on 2 cores).

    Parameters
    ----------
    voices : sequence of str, optional
        Keep only these voices (see :data:`VOICES`); all by default.
    {data_home}

    Returns
    -------
    pandas.DataFrame
        One row per clip: ``clip_id`` (``"<concept_id>-<take>"``), ``audio``
        (path to the WAV), ``concept_id``, ``name`` (the text spoken),
        ``group``, ``voice``, ``speed`` (words per minute), ``take`` and
        ``duration`` (seconds).

    {raises}

    Examples
    --------
    >>> from skmm.datasets import load_spoken_emoji
    >>> clips = load_spoken_emoji()  # doctest: +SKIP
    >>> clips.loc[0, ["concept_id", "name", "voice"]].tolist()  # doctest: +SKIP
    ['1F600', 'grinning face', 'en-gb-scotland+m1']
    """
    folder = dataset_folder("spoken_emoji", data_home)
    clips = pd.read_csv(
        folder / "clips.csv",
        dtype={"concept_id": str, "clip_id": str},
        keep_default_na=False,
        na_values=[""],
    )
    if voices is not None:
        voices = [voices] if isinstance(voices, str) else list(voices)
        unknown = sorted(set(voices) - set(clips["voice"]))
        if unknown:
            raise ValueError(
                f"Unknown voice(s) {unknown}; known: {sorted(set(clips['voice']))}"
            )
        clips = clips[clips["voice"].isin(voices)].reset_index(drop=True)
    clips.insert(1, "audio", [str(folder / f) for f in clips["file"]])
    return clips.drop(columns=["file"])
