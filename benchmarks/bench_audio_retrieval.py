"""Audio retrieval on real recordings: spoken descriptions, sound effects and
spoken emoji names, against chance.

Tasks (R@1/R@5/R@10 hit rate and MRR from :mod:`skmm.metrics`; relevant =
same caption text, or same emoji concept):

- ``speech``: Tux Paint's 65 human-spoken English descriptions
  (:func:`skmm.datasets.load_tuxpaint_audio`) -> their captions and -> the
  stamp images.  *Transcribe*: ``SpeechTranscriber`` (Whisper tiny.en) then
  ``TextEncoder("minilm")``; captions by MiniLM cosine, images through a
  ``CCARetriever`` fitted on MiniLM caption <-> MobileNetV2 image pairs of
  the ~885 *other* stamps (never on the 65).  *Classic*: ``MFCCEncoder`` /
  ``LogMelEncoder`` + ``CCARetriever`` (audio -> caption MiniLM), 5-fold
  grouped cross-validation; the gallery of each fold is its test captions,
  and the transcription pipeline is scored on the same folds.  Also the
  transcripts against all 950 stamp captions.
- ``effects``: the 134 sound effects -> captions, MFCC / LogMel +
  ``RidgeRetriever``, ``CCARetriever`` and ``ContrastiveRetriever``, 5-fold
  grouped cross-validation (gallery = the fold's captions).
- ``emoji``: emoji names spoken by espeak-ng
  (:func:`skmm.datasets.load_spoken_emoji`, a seeded sample of clips) ->
  the drawing, by MiniLM text-to-text between the transcript and the 1,914
  emoji names: each name names one drawing, so finding the name is finding
  the drawing.

Chance: the same metrics for uniformly random scores (the mean of 200
draws, same galleries and relevance).

Usage (after ``python -m skmm.datasets fetch tuxpaint``, ``... fetch
spoken_emoji`` and ``pip install 'skmm[speech]'``)::

    python benchmarks/bench_audio_retrieval.py
    python benchmarks/bench_audio_retrieval.py --tasks speech --emoji-clips 200
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

OUT = Path(__file__).resolve().parent / "_out"
KS = (1, 5, 10)
N_FOLDS = 5


# ---------------------------------------------------------------- metrics
def _metrics(scores: np.ndarray, relevant: np.ndarray) -> dict[str, float]:
    from skmm.metrics import mean_reciprocal_rank, recall_at_k

    out = {f"R@{k}": recall_at_k(scores, relevant, k=k) for k in KS}
    out["MRR"] = mean_reciprocal_rank(scores, relevant)
    return out


def _chance(relevant: np.ndarray, draws: int = 200) -> dict[str, float]:
    rng = np.random.default_rng(0)
    rows = [_metrics(rng.random(relevant.shape), relevant) for _ in range(draws)]
    return pd.DataFrame(rows).mean().to_dict()


def _relevance(query_labels, gallery_labels) -> np.ndarray:
    return np.asarray(query_labels)[:, None] == np.asarray(gallery_labels)[None, :]


def _cosine(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a = a / np.linalg.norm(a, axis=1, keepdims=True).clip(1e-12)
    b = b / np.linalg.norm(b, axis=1, keepdims=True).clip(1e-12)
    return a @ b.T


def _row(task: str, gallery: str, method: str, metrics: dict) -> dict:
    return {"task": task, "gallery": gallery, "method": method, **metrics}


def _pooled(folds: list[tuple[dict, int]]) -> dict[str, float]:
    """Query-weighted mean of per-fold metrics."""
    total = sum(n for _, n in folds)
    keys = folds[0][0].keys()
    return {k: sum(m[k] * n for m, n in folds) / total for k in keys}


# --------------------------------------------------------------- features
def _cached(name: str, compute):
    path = OUT / f"audio_retrieval_{name}.npy"
    if path.exists():
        return np.load(path, allow_pickle=True)
    value = compute()
    OUT.mkdir(exist_ok=True)
    np.save(path, value, allow_pickle=True)
    return value


def _transcribe(paths: list[str], tag: str) -> np.ndarray:
    from skmm.audio import SpeechTranscriber

    def run():
        t0 = time.perf_counter()
        texts = SpeechTranscriber(temperature=0.0, verbose=0).fit_transform(
            pd.Series(paths)
        )
        texts = np.asarray(texts, dtype=object).ravel()
        print(f"  transcribed {len(paths)} clips in {time.perf_counter() - t0:.1f} s")
        return texts

    return _cached(f"transcripts_{tag}", run)


def _minilm(texts, tag: str) -> np.ndarray:
    from skmm.text import TextEncoder

    emb = _cached(
        f"minilm_{tag}",
        lambda: TextEncoder("minilm", verbose=0).fit_transform(
            pd.Series(["" if t is None else str(t) for t in texts])
        ),
    )
    return np.nan_to_num(emb)  # an empty transcript: a zero vector, cosine 0


def _classic(paths: list[str], tag: str) -> dict[str, np.ndarray]:
    from skmm.audio import LogMelEncoder, MFCCEncoder

    encoders = {
        "MFCC": MFCCEncoder(n_mfcc=20, deltas=True, verbose=0),
        "LogMel": LogMelEncoder(n_mels=64, verbose=0),
    }
    return {
        name: _cached(f"{name}_{tag}", lambda e=enc: e.fit_transform(pd.Series(paths)))
        for name, enc in encoders.items()
    }


# --------------------------------------------------------------- protocol
def _folds(groups: np.ndarray):
    from sklearn.model_selection import GroupKFold

    cv = GroupKFold(n_splits=N_FOLDS, shuffle=True, random_state=0)
    return list(cv.split(groups, groups=groups))


def _retriever(name: str, n_train: int):
    from skmm.retrieval import CCARetriever, ContrastiveRetriever, RidgeRetriever

    dim = max(2, min(16, n_train // 4))
    if name == "Ridge":
        return RidgeRetriever(alpha=100.0, query="audio", target="text")
    if name == "CCA":
        return CCARetriever(n_components=dim, reg=1.0, query="audio", target="text")
    return ContrastiveRetriever(
        query="audio",
        target="text",
        embed_dim=32,
        max_epochs=60,
        batch_size=32,
        lr=1e-3,
        dropout=0.2,
        random_state=0,
        device="cpu",
    )


def _cv_learned(audio, text, groups, name) -> dict[str, float]:
    folds = []
    for train, test in _folds(groups):
        X = np.hstack([audio, text])
        mods = {"audio": audio.shape[1], "text": text.shape[1]}
        r = _retriever(name, len(train)).set_params(modalities=mods)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            r.fit(X[train])
        S = r.embed(X[test], modality="audio") @ r.embed(X[test], modality="text").T
        folds.append((_metrics(S, _relevance(groups[test], groups[test])), len(test)))
    return _pooled(folds)


def _cv_fixed(scores, groups) -> dict[str, float]:
    """A model without training, scored on the same folds' galleries."""
    folds = []
    for _, test in _folds(groups):
        rel = _relevance(groups[test], groups[test])
        folds.append((_metrics(scores[np.ix_(test, test)], rel), len(test)))
    return _pooled(folds)


def _cv_chance(groups) -> dict[str, float]:
    return _pooled(
        [(_chance(_relevance(groups[t], groups[t])), len(t)) for _, t in _folds(groups)]
    )


# ------------------------------------------------------------------ tasks
def task_speech() -> list[dict]:
    from skmm.datasets import load_tuxpaint, load_tuxpaint_audio
    from skmm.image import ImageEncoder
    from skmm.retrieval import CCARetriever

    speech = load_tuxpaint_audio("speech")
    stamps = load_tuxpaint()
    groups = speech["caption"].to_numpy()
    transcripts = _transcribe(speech["audio"].tolist(), "speech")
    for cap, tr in list(zip(groups, transcripts))[:8]:
        print(f"  {cap!r:32} heard {tr!r}")
    q = _minilm(transcripts, "speech_transcripts")
    cap_all = _minilm(stamps["caption"], "tuxpaint_captions")
    pos = pd.Series(np.arange(len(stamps)), index=stamps["stamp_id"])
    own = pos[speech["stamp_id"]].to_numpy()
    rows = []

    def add(*args):
        rows.append(_row(*args))

    S = _cosine(q, cap_all[own])
    n = len(speech)
    add(
        "speech→caption", f"{n} captions", "chance", _chance(_relevance(groups, groups))
    )
    add(
        "speech→caption",
        f"{n} captions",
        "Whisper + MiniLM",
        _metrics(S, _relevance(groups, groups)),
    )
    all_caps = stamps["caption"].to_numpy()
    rel_all = _relevance(groups, all_caps)
    add("speech→caption", f"{len(stamps)} captions", "chance", _chance(rel_all))
    add(
        "speech→caption",
        f"{len(stamps)} captions",
        "Whisper + MiniLM",
        _metrics(_cosine(q, cap_all), rel_all),
    )

    # spoken description -> stamp image, through a caption<->image CCA
    images = _cached(
        "mobilenet_tuxpaint",
        lambda: ImageEncoder("mobilenet_v2", verbose=0, on_error="nan").fit_transform(
            load_tuxpaint(images="array", size=224)["image"]
        ),
    )
    others = np.setdiff1d(np.arange(len(stamps)), own)
    ok = others[~np.isnan(images[others]).any(axis=1)]
    mods = {"text": cap_all.shape[1], "image": images.shape[1]}
    cca = CCARetriever(n_components=128, reg=1.0, query="text", target="image")
    cca.set_params(modalities=mods).fit(np.hstack([cap_all[ok], images[ok]]))
    gal = cca.embed(images[own], modality="image")
    rel = _relevance(groups, groups)
    add("speech→image", f"{n} stamps", "chance", _chance(rel))
    add(
        "speech→image",
        f"{n} stamps",
        "Whisper + MiniLM + CCA(caption↔image)",
        _metrics(cca.embed(q, modality="text") @ gal.T, rel),
    )
    add(
        "speech→image",
        f"{n} stamps",
        "caption (oracle) + MiniLM + CCA",
        _metrics(cca.embed(cap_all[own], modality="text") @ gal.T, rel),
    )

    # cross-validated: classic features + CCA against the transcripts
    n_test = f"{N_FOLDS}-fold, ~{n // N_FOLDS} captions"
    add("speech→caption", n_test, "chance", _cv_chance(groups))
    add("speech→caption", n_test, "Whisper + MiniLM", _cv_fixed(S, groups))
    for feat, A in _classic(speech["audio"].tolist(), "speech").items():
        add(
            "speech→caption",
            n_test,
            f"{feat} + CCA",
            _cv_learned(A, cap_all[own], groups, "CCA"),
        )
    return rows


def task_effects() -> list[dict]:
    from skmm.datasets import load_tuxpaint_audio

    fx = load_tuxpaint_audio("effects")
    groups = fx["caption"].to_numpy()
    text = _minilm(fx["caption"], "effects_captions")
    rows = []
    n_test = f"{N_FOLDS}-fold, ~{len(fx) // N_FOLDS} captions"
    rows.append(_row("effect→caption", n_test, "chance", _cv_chance(groups)))
    for feat, A in _classic(fx["audio"].tolist(), "effects").items():
        for name in ("Ridge", "CCA", "Contrastive"):
            t0 = time.perf_counter()
            m = _cv_learned(A, text, groups, name)
            print(f"  {feat} + {name}: {time.perf_counter() - t0:.1f} s")
            rows.append(_row("effect→caption", n_test, f"{feat} + {name}", m))
    return rows


def task_emoji(n_clips: int) -> list[dict]:
    from skmm.datasets import load_spoken_emoji

    clips = load_spoken_emoji()
    names = clips.drop_duplicates("concept_id")[["concept_id", "name"]]
    sample = clips.sample(n=min(n_clips, len(clips)), random_state=0)
    transcripts = _transcribe(sample["audio"].tolist(), f"emoji{len(sample)}")
    for name, tr in list(zip(sample["name"], transcripts))[:8]:
        print(f"  {name!r:32} heard {tr!r}")
    q = _minilm(transcripts, f"emoji{len(sample)}_transcripts")
    g = _minilm(names["name"], "emoji_names")
    rel = _relevance(sample["concept_id"], names["concept_id"])
    gallery = f"{len(names)} names/drawings"
    heard = np.char.strip(np.char.lower(np.asarray(transcripts, dtype=str)), " .!?")
    exact = heard[:, None] == np.char.lower(names["name"].to_numpy(dtype=str))
    task = "spoken emoji→drawing"
    rows = [
        _row(task, gallery, "chance", _chance(rel, draws=20)),
        _row(task, gallery, "Whisper + MiniLM (name)", _metrics(_cosine(q, g), rel)),
        _row(task, gallery, "exact transcript = name", _metrics(exact * 1.0, rel)),
    ]
    per_voice = {}
    S = _cosine(q, g)
    for voice, idx in sample.reset_index(drop=True).groupby("voice").groups.items():
        idx = np.asarray(idx)
        per_voice[voice] = _metrics(S[idx], rel[idx])["R@1"]
    print("  R@1 per voice:", {k: round(v, 3) for k, v in per_voice.items()})
    rows[1]["note"] = "R@1 per voice " + ", ".join(
        f"{k} {v:.2f}" for k, v in per_voice.items()
    )
    return rows


def _markdown(table: pd.DataFrame) -> str:
    cols = ["task", "gallery", "method", "R@1", "R@5", "R@10", "MRR"]
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for _, r in table.iterrows():
        cells = [str(r[c]) if c in cols[:3] else f"{r[c]:.3f}" for c in cols]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--tasks", nargs="+", default=["speech", "effects", "emoji"])
    p.add_argument("--emoji-clips", type=int, default=600)
    p.add_argument("--threads", type=int, default=None)
    args = p.parse_args()
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    rows: list[dict] = []
    for task in args.tasks:
        t0 = time.perf_counter()
        print(f"[{task}]")
        if task == "speech":
            rows += task_speech()
        elif task == "effects":
            rows += task_effects()
        elif task == "emoji":
            rows += task_emoji(args.emoji_clips)
        else:
            raise SystemExit(f"unknown task {task!r}")
        print(f"[{task}] {time.perf_counter() - t0:.1f} s")
    table = pd.DataFrame(rows)
    print(_markdown(table))
    for note in table.get("note", pd.Series(dtype=object)).dropna():
        print(note)
    OUT.mkdir(exist_ok=True)
    (OUT / "audio_retrieval.json").write_text(json.dumps(rows, indent=2, default=float))


if __name__ == "__main__":
    main()
