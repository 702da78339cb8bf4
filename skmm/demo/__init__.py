"""The main job: ``skmm demo`` on real data, end to end, with a report.

1. **Data**: the emoji data set (built on first run): every concept drawn by
   both Noto and OpenMoji, with its CLDR name and Unicode group.
2. **Encoding** (cached): names with MiniLM, pictures with MobileNetV2.
3. **Cross-modal retrieval**, text -> image and image -> text, on concepts
   never seen in training: the linear baselines (Ridge, CCA, PLS), the
   contrastive retriever on frozen embeddings, and ``TwoTowerRetriever``
   fine-tuning MiniLM and MobileNetV2 themselves; a Recall@1/5/10 table and
   a gallery of the fine-tuned retriever's results.
4. **Spoken queries**: four of Tux Paint's recorded descriptions,
   transcribed by ``SpeechTranscriber`` and searched among the stamp
   captions with MiniLM, each playable in the report (skipped with a note
   without the ``tuxpaint`` data set or the ``speech`` extra).
5. **Fusion search**: ``FusionSearchCV`` over the fusion strategies for the
   emoji group (9 classes), grouped folds by concept, Optuna's embedded
   SQLite storage in the report folder (a rerun resumes the study).
6. **Comparison**: ``compare_models`` of the best fusion model, the same
   strategy fine-tuning MobileNetV2's last blocks (``encoders=``), and
   logistic regressions on the text, the image and both (same folds,
   corrected t-test); a box plot of the fold scores.  The summary says which
   model won.

Everything lands in a report folder (``index.html`` + PNG figures).

Each step has its module: ``_data`` (loading and encoding), ``_retrieval``,
``_audio`` (the spoken queries), ``_fusion`` (search and comparison) and
``_page`` (the verdict and the report page, built with
:class:`skmm.report.Report`); ``_pipeline`` runs them in order and
``_console`` prints their tables.
"""

from skmm.demo._pipeline import run_demo

__all__ = ["run_demo"]
