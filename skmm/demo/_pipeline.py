"""The demo's steps in order: :func:`run_demo`."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

from skmm.demo._audio import audio_queries
from skmm.demo._console import Steps
from skmm.demo._data import encode_concepts, fusion_table, load_concepts, raw_table
from skmm.demo._fusion import compare_to_baselines, search_fusions
from skmm.demo._page import verdict, write_report
from skmm.demo._retrieval import draw_gallery, score_retrievers

__all__ = ["run_demo"]

# what run_demo returns, in this order
_RESULTS = (
    "retrieval",
    "audio",
    "search",
    "comparison",
    "cache",
    "timings",
    "seconds",
    "report",
    "verdict",
)


def run_demo(
    *,
    quick: bool = False,
    n: int | None = None,
    out: str | Path = "skmm_demo_report",
    seed: int = 0,
) -> dict:
    """Run the demo, print its tables and write the report.

    Parameters
    ----------
    quick : bool, default=False
        A smaller version (300 concepts, fewer trials and epochs): about a
        minute with a warm cache.
    n : int, optional
        Number of emoji concepts (default: all ~1,900; 300 with ``quick``).
    out : path, default="skmm_demo_report"
        Report folder (``index.html``, PNG figures, the Optuna study).
    seed : int, default=0

    Returns
    -------
    dict
        The tables (DataFrames) and timings.
    """
    import torch

    out = Path(out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    t_start = time.perf_counter()
    steps = Steps(6)
    device = "CUDA" if torch.cuda.is_available() else "CPU"
    print(
        f"skmm demo{' --quick' if quick else ''}: emoji names and pictures, "
        f"retrieval and fusion search ({device}, {torch.get_num_threads()} threads)"
    )
    # everything the report shows, gathered step by step
    r: dict[str, Any] = {"quick": quick}

    steps.start("data: the emoji data set")
    concepts, noto, openmoji = load_concepts(n or (300 if quick else None), seed)
    r["n_concepts"] = len(concepts)
    print(
        f"  {len(concepts)} concepts drawn by Noto and OpenMoji, "
        f"{noto['group'].nunique()} Unicode groups"
    )

    steps.start("encoding: MiniLM names, MobileNetV2 pictures (cached)")
    text, noto_img, om_img, r["enc_rows"], r["cache"] = encode_concepts(noto, openmoji)

    steps.start("cross-modal retrieval on unseen concepts")
    r["retrieval"], r["best_retriever"], sims, test = score_retrievers(
        concepts, text, noto_img, om_img, seed, quick, noto, openmoji
    )
    r["gallery"] = draw_gallery(out, sims, test, noto, seed)

    steps.start("audio: spoken Tux Paint descriptions -> stamp captions")
    r["audio"] = audio_queries(seed)

    steps.start("fusion search: FusionSearchCV over the fusion strategies")
    X = fusion_table(text, noto_img, om_img)
    y = np.concatenate([noto["group"].to_numpy()] * 2)
    groups = np.concatenate([concepts, concepts])
    r["search"], r["search_rows"], r["search_figures"] = search_fusions(
        X, y, groups, out, seed, quick
    )

    steps.start("comparison: best fusion vs logistic baselines (same folds)")
    r["comparison"] = compare_to_baselines(
        r["search"], X, raw_table(noto, openmoji), y, groups, out, seed, quick
    )
    steps.stop()

    r["seconds"] = time.perf_counter() - t_start
    r["timings"] = steps.times
    r["verdict"] = verdict(r["retrieval"], r["best_retriever"], r["comparison"])
    r["report"] = write_report(out, r)
    print("\nSummary")
    for name, secs in steps.times.items():
        print(f"  {secs:7.1f} s  {name}")
    print(f"  {r['seconds']:7.1f} s  total")
    print(r["verdict"])
    print(f"  report: {r['report']}")
    return {key: r[key] for key in _RESULTS}
