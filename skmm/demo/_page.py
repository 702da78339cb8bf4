"""The demo's conclusions: the verdict (which model won) and the report page,
built with :class:`skmm.report.Report`."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["verdict", "write_report"]


def verdict(retrieval: Any, best_retriever: str, comparison: Any) -> str:
    """Which model won, in plain words (two lines: retrieval, classification)."""
    tuned_r = "TwoTower (fine-tuned)"
    frozen = retrieval.drop(index=tuned_r)
    best_frozen = str(frozen["t->i R@1"].idxmax())
    r_tuned = retrieval.loc[tuned_r, "t->i R@1"]
    r_frozen = frozen.loc[best_frozen, "t->i R@1"]
    lines = [
        f"  retrieval winner (text->image R@1 on unseen concepts): {best_retriever} "
        f"{retrieval.loc[best_retriever, 't->i R@1']:.3f}; fine-tuned two-tower "
        f"{r_tuned:.3f} vs the best frozen retriever ({best_frozen}) {r_frozen:.3f} "
        f"({r_tuned / max(r_frozen, 1e-9):.2f}x)"
    ]
    best = comparison.index[0]
    tuned_c = [i for i in comparison.index if "fine-tuned" in str(i)]
    line = (
        f"  classification winner (accuracy, grouped folds): {best} "
        f"{comparison.iloc[0]['mean_accuracy']:.3f}"
    )
    if tuned_c:
        row = comparison.loc[tuned_c[0]]
        p = row.get("p_value", float("nan"))
        line += f"; fine-tuned fusion {row['mean_accuracy']:.3f}" + (
            "" if best == tuned_c[0] else f" (p = {p:.2f} against the winner)"
        )
    lines.append(line)
    return "\n".join(lines)


def _rows_frame(rows: list[list[str]], columns: list[str]) -> Any:
    """A printed table (label first in each row) as a DataFrame."""
    import pandas as pd

    return pd.DataFrame(
        [row[1:] for row in rows], index=[row[0] for row in rows], columns=columns
    )


def write_report(out: Path, r: Mapping[str, Any]) -> Path:
    """Write the demo's page, ``out / "index.html"``, from its results.

    Parameters
    ----------
    out : Path
        The report folder (the figures are there already).
    r : mapping
        What :func:`~skmm.demo.run_demo` gathered: ``quick``, ``n_concepts``,
        ``seconds``, ``verdict``, ``enc_rows``, ``cache``, ``retrieval``,
        ``gallery``, ``audio`` (optional), ``search``, ``search_rows``,
        ``search_figures``, ``comparison`` and ``timings``.

    Returns
    -------
    Path
        The page.
    """
    import pandas as pd

    from skmm.demo._audio import audio_report
    from skmm.report import Report

    rep = Report(out, title="skmm demo: emoji names and pictures")
    rep.add_text(
        f"{r['n_concepts']} emoji concepts drawn by Noto and OpenMoji. Names encoded "
        "with MiniLM (all-MiniLM-L6-v2), pictures with MobileNetV2 (ImageNet), "
        f"both cached. Total run time {r['seconds']:.0f} s"
        f"{' (--quick)' if r['quick'] else ''}."
    )
    rep.add_text(
        "**Verdict.** "
        + " ".join(line.strip() for line in r["verdict"].splitlines())
        .replace("retrieval winner", "Retrieval winner")
        .replace("classification winner", "Classification winner"),
        markdown=True,
    )
    rep.add_table(
        _rows_frame(r["enc_rows"], ["output", "seconds", "items/s"]),
        caption=(
            f"Encoders (embedding cache: {r['cache']['hits']} hits, "
            f"{r['cache']['misses']} computed)"
        ),
    )
    rep.add_table(
        r["retrieval"],
        best={c: "max" for c in r["retrieval"].columns if c != "fit s"},
        caption=(
            "Cross-modal retrieval on concepts unseen in training "
            "(hit-rate Recall@K and MRR; t->i: name -> Noto drawing)"
        ),
    )
    path, ranks = r["gallery"]
    found = int((np.asarray(ranks) > 0).sum())
    rep.add_figure(
        path,
        caption=(
            "Text queries and the top-5 drawings found by the fine-tuned "
            "TwoTowerRetriever "
            f"(the correct drawing framed in green; found in the top 5 for "
            f"{found} of {len(ranks)} queries)"
        ),
    )
    if "audio" in r:
        audio_report(rep, r["audio"])
    columns = ["fusion", "lr", "hidden", "knobs", "accuracy", "state"]
    rep.add_table(
        _rows_frame(r["search_rows"], columns),
        caption=(
            "FusionSearchCV: the 5 best trials (emoji group, 9 classes, 3 folds "
            f"grouped by concept); best {r['search'].best_score_:.3f}"
        ),
    )
    for key in ("history", "importances"):
        if key in r["search_figures"]:
            rep.add_figure(r["search_figures"][key], caption=f"Optuna {key}")
    rep.add_table(
        r["comparison"][
            ["mean_accuracy", "std_accuracy", "mean_fit_time", "t_stat", "p_value"]
        ],
        caption=(
            "compare_models: same folds for every model; p-value of the corrected "
            "resampled t-test (Nadeau & Bengio) against the best"
        ),
    )
    rep.add_figure(out / "compare_models.png", caption="Accuracy per fold")
    rep.add_table(
        pd.DataFrame(
            {"seconds": list(r["timings"].values())}, index=list(r["timings"])
        ),
        caption="Time per step",
    )
    return rep.write()
