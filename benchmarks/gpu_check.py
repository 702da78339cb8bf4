"""TwoTowerRetriever on a CUDA GPU (bf16) against the CPU (fp32), one run.

    .venv/bin/python benchmarks/gpu_check.py                      # on a CUDA machine
    .venv/bin/python benchmarks/gpu_check.py --device cpu --quick # CPU smoke check

Towers: the tiny random 2-layer BERT of ``skmm.testing.make_tiny_text_model``
(built into a temporary folder, no download) and MobileNetV2 at 64 px
(``ImageEncoder("mobilenet_v2", size=64)``, its packaged weights), on a
synthetic table of colour names and noisy coloured pictures (``--rows``,
16 colours; every 4th row held out).

(a) ``TwoTowerRetriever`` (text 2 of 2 layers, image 3 of 19 blocks, one
    augmented view) fitted on ``--device`` with ``precision="bf16"``: fit
    with a cold prefix, fit again (prefix in memory), embed cold and warm,
    held-out recall@5, pickle round trip.
(b) The same on the CPU in fp32.  Trained models are not expected to agree
    (bf16, other kernels, a chaotic optimisation), so the mean cosine of
    their embeddings is only printed; what must agree is a *locked* model
    (``unfreeze=0``, fp32, same seed: the heads see the same batches) and
    the frozen prefix of a tower computed on either device.
(c) A 2-trial ``FusionSearchCV`` over ``TwoTowerRetriever`` on ``--device``
    (recall@5, 2 grouped folds, per-epoch reports, refit).
(d) A table of the timings.

With ``--device auto`` (the default) on a machine without CUDA it says so
and exits 0.  Not part of the test suite.  About a minute on an H200
(``--rows 256``); ``--device cpu --quick`` well under a minute on 2 cores.
"""

from __future__ import annotations

import argparse
import pickle
import sys
import tempfile
import time
import warnings

import numpy as np
import pandas as pd

COLOURS = {
    "red": (220, 30, 30),
    "green": (30, 200, 40),
    "blue": (30, 40, 220),
    "yellow": (230, 220, 30),
    "black": (15, 15, 15),
    "white": (240, 240, 240),
    "orange": (250, 140, 20),
    "purple": (130, 40, 170),
    "pink": (250, 150, 200),
    "brown": (120, 70, 30),
    "grey": (128, 128, 128),
    "cyan": (30, 220, 220),
    "navy": (20, 30, 110),
    "olive": (110, 120, 30),
    "teal": (20, 120, 120),
    "maroon": (120, 20, 40),
}
TEMPLATES = ("{c}", "a {c} square", "the {c} sky", "a {c} car")
TIMES: list[tuple[str, str, float]] = []


def make_table(
    n: int, size: int = 72, seed: int = 0
) -> tuple[pd.DataFrame, np.ndarray]:
    """``n`` rows of (colour phrase, noisy picture of that colour), groups."""
    rng = np.random.default_rng(seed)
    names = list(COLOURS)
    texts, images, groups = [], [], []
    for i in range(n):
        g = i % len(names)
        img = np.array(COLOURS[names[g]], float) + rng.normal(0, 25, (size, size, 3))
        side = int(rng.integers(size // 4, size // 2))  # a darker patch
        top, left = rng.integers(0, size - side, 2)
        img[top : top + side, left : left + side] *= 0.6
        images.append(np.clip(img, 0, 255).astype(np.uint8))
        texts.append(TEMPLATES[(i // len(names)) % len(TEMPLATES)].format(c=names[g]))
        groups.append(g)
    return pd.DataFrame({"text": texts, "image": images}), np.asarray(groups)


def sync(device: str) -> None:
    import torch

    if device.startswith("cuda"):
        torch.cuda.synchronize()


def timed(label: str, device: str, fn):
    sync(device)
    t0 = time.perf_counter()
    out = fn()
    sync(device)
    TIMES.append((label, device, time.perf_counter() - t0))
    return out


def encoders(tiny: str, device: str):
    from skmm.image import ImageEncoder
    from skmm.text import TextEncoder

    return (
        TextEncoder(tiny, verbose=0, device=device),
        ImageEncoder("mobilenet_v2", size=64, verbose=0, device=device),
    )


def retriever(tiny: str, device: str, precision: str, epochs: int, **params):
    from skmm.retrieval import TwoTowerRetriever

    text, image = encoders(tiny, device)
    settings = dict(
        text=text,
        image=image,
        unfreeze={"text": 2, "image": 3},
        embed_dim=64,
        max_epochs=epochs,
        batch_size=64,
        lr=3e-3,
        tower_lr=3e-4,
        augment_views=1,
        validation_fraction=0.125,  # 2 of the 16 colours
        patience=0,  # no early stop: the same epochs on both devices
        precision=precision,
        random_state=0,
        device=device,
    )
    settings.update(params)
    return TwoTowerRetriever(**settings)


def both(model, X) -> dict[str, np.ndarray]:
    return {m: model.embed(X, modality=m) for m in ("text", "image")}


def compare(a: dict, b: dict) -> str:
    parts = []
    for m in a:
        cos = float(np.mean(np.sum(a[m] * b[m], axis=1)))
        diff = float(np.max(np.abs(a[m] - b[m])))
        parts.append(f"{m}: mean cos {cos:.6f}, max |diff| {diff:.2e}")
    return "; ".join(parts)


def prefix_diff(tiny: str, device: str, train: pd.DataFrame) -> list[str]:
    """The frozen prefix of each tower on the CPU vs on ``device``."""
    from skmm.finetune import make_tower

    lines = []
    cells = {"text": list(train["text"][:32]), "image": list(train["image"][:32])}
    cpu_encoders = encoders(tiny, "cpu")
    dev_encoders = encoders(tiny, device)
    for (m, unfreeze), enc_c, enc_d in zip(
        (("text", 1), ("image", 3)), cpu_encoders, dev_encoders
    ):
        enc_c.fit(cells[m])
        enc_d.fit(cells[m])
        items = [enc_c._prepare(c) for c in cells[m]]
        keys = [str(i) for i in range(len(items))]
        pc = make_tower(enc_c, unfreeze).compute_prefix(items, 0, keys)
        pd_ = make_tower(enc_d, unfreeze).compute_prefix(items, 0, keys)
        diff = max(float(np.max(np.abs(a - b))) for a, b in zip(pc, pd_))
        scale = max(float(np.max(np.abs(a))) for a in pc)
        full = float(
            np.max(np.abs(enc_c.transform(cells[m]) - enc_d.transform(cells[m])))
        )
        lines.append(
            f"  {m} prefix (unfreeze={unfreeze}, shape {pc[0].shape}): max |diff| "
            f"{diff:.2e} (relative {diff / scale:.1e}); encoder output max |diff| "
            f"{full:.2e}"
        )
    return lines


def search_space(trial) -> dict:
    # not TwoTowerRetriever.search_space: it draws unfreeze_text up to 4,
    # more than the tiny BERT's 2 layers (such trials would fail)
    return {
        "unfreeze": {
            "text": trial.suggest_int("unfreeze_text", 0, 2),
            "image": trial.suggest_int("unfreeze_image", 0, 4),
        },
        "lr": trial.suggest_float("lr", 1e-3, 1e-2, log=True),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--device", default="auto", help="auto, cuda, cuda:N or cpu")
    parser.add_argument("--quick", action="store_true", help="64 rows, 2 epochs")
    parser.add_argument("--rows", type=int, default=None, help="default 256 (quick 64)")
    parser.add_argument("--epochs", type=int, default=None, help="default 10 (quick 2)")
    args = parser.parse_args(argv)

    import torch

    device = args.device
    if device == "auto":
        if not torch.cuda.is_available():
            print(
                "No CUDA GPU found (torch.cuda.is_available() is False): nothing to "
                "check. Run with --device cpu for a CPU smoke check."
            )
            return 0
        device = "cuda"
    if device.startswith("cuda") and not torch.cuda.is_available():
        print(f"--device {device}: CUDA is not available here.", file=sys.stderr)
        return 1
    rows = args.rows or (64 if args.quick else 256)
    epochs = args.epochs or (2 if args.quick else 10)
    search_epochs = 1 if args.quick else 3
    warnings.filterwarnings("ignore", category=UserWarning, module="skorch")

    from sklearn.base import clone
    from sklearn.model_selection import GroupKFold
    from transformers.utils import logging as hf_logging

    import skmm
    from skmm.finetune import clear_prefix_memory, prefix_stats, reset_prefix_stats
    from skmm.metrics import make_retrieval_scorer
    from skmm.model_selection import FusionSearchCV
    from skmm.testing import make_tiny_text_model

    print(f"skmm {skmm.__version__}, torch {torch.__version__}, device {device}")
    if device.startswith("cuda"):
        idx = torch.device(device).index or 0
        print(
            f"  {torch.cuda.get_device_name(idx)}, capability "
            f"{torch.cuda.get_device_capability(idx)}, bf16 "
            f"{torch.cuda.is_bf16_supported()}, cuDNN TF32 "
            f"{torch.backends.cudnn.allow_tf32}, matmul TF32 "
            f"{torch.backends.cuda.matmul.allow_tf32}"
        )
    else:
        print(
            "  CPU run: precision='bf16' is a no-op there; (b) compares the CPU "
            "with itself"
        )
    print(f"  {rows} rows, {epochs} epochs, torch threads {torch.get_num_threads()}")

    hf_logging.disable_progress_bar()  # "Writing model shards"
    tmp = tempfile.TemporaryDirectory(prefix="skmm_gpu_check_")
    tiny = str(make_tiny_text_model(f"{tmp.name}/tiny_bert"))
    data, groups = make_table(rows)
    held = np.arange(rows) % 4 == 3
    train, y_train = data[~held].reset_index(drop=True), groups[~held]
    test, y_test = data[held].reset_index(drop=True), groups[held]

    # ---------------------------------------------------------- (a) device
    print(f"\n(a) TwoTowerRetriever on {device}, bf16")
    clear_prefix_memory()
    reset_prefix_stats()
    model = retriever(tiny, device, "bf16", epochs)
    timed("fit, cold prefix", device, lambda: model.fit(train, y_train))
    fit_times = {k: round(v, 2) for k, v in model.fit_times_.items()}
    print(f"  fit_times_ {fit_times}, prefix {prefix_stats()}")
    reset_prefix_stats()
    timed(
        "fit again, prefix in memory", device, lambda: clone(model).fit(train, y_train)
    )
    print(f"  second fit: prefix {prefix_stats()} (computed must be 0)")
    clear_prefix_memory()
    timed("embed held-out, cold prefix", device, lambda: both(model, test))
    emb_dev = timed("embed held-out, warm", device, lambda: both(model, test))
    recall = model.score(test, y_test, metric="recall@5")
    print(
        f"  held-out recall@5 {recall:.3f}; loss {model.loss_curve_[0]:.3f} -> "
        f"{model.loss_curve_[-1]:.3f}; validation MRR "
        f"{[round(v, 3) for v in model.validation_curve_]}; temperature "
        f"{model.temperature_:.4f}"
    )

    def roundtrip():
        blob = pickle.dumps(model)
        return blob, both(pickle.loads(blob), test)

    blob, emb_restored = timed("pickle, unpickle, embed", device, roundtrip)
    print(
        f"  pickle {len(blob) / 1e6:.2f} MB; restored vs fitted: "
        f"{compare(emb_restored, emb_dev)}"
    )

    # ------------------------------------------------------------- (b) CPU
    print("\n(b) the same on the CPU, fp32")
    # the prefix namespace does not include the device: forget the device's
    # prefixes so that the CPU computes (and times) its own
    clear_prefix_memory()
    cpu_model = retriever(tiny, "cpu", "fp32", epochs)
    timed("fit, cold prefix", "cpu", lambda: cpu_model.fit(train, y_train))
    emb_cpu = timed("embed held-out, warm", "cpu", lambda: both(cpu_model, test))
    print(f"  held-out recall@5 {cpu_model.score(test, y_test, metric='recall@5'):.3f}")
    print(
        f"  tuned, {device} bf16 vs CPU fp32 (not expected to agree): "
        f"{compare(emb_dev, emb_cpu)}"
    )
    locked = {}
    for dev in (device, "cpu"):
        clear_prefix_memory()
        m = retriever(tiny, dev, "fp32", epochs, unfreeze=0, augment_views=0)
        timed("fit locked, fp32", dev, lambda m=m: m.fit(train, y_train))
        locked[dev] = both(m, test)
    if device != "cpu":
        print(
            f"  locked fp32, {device} vs CPU (must agree): "
            f"{compare(locked[device], locked['cpu'])}"
        )
    for line in prefix_diff(tiny, device, train):
        print(line)

    # ---------------------------------------------------------- (c) search
    print(f"\n(c) FusionSearchCV over TwoTowerRetriever on {device}, 2 trials")
    search = FusionSearchCV(
        retriever(tiny, device, "bf16", search_epochs),
        search_space,
        n_trials=2,
        cv=GroupKFold(n_splits=2),
        scoring=make_retrieval_scorer("recall@5"),
        storage=None,
        random_state=0,
    )
    timed(
        "FusionSearchCV, 2 trials x 2 folds + refit",
        device,
        lambda: search.fit(train, y_train, groups=y_train),
    )
    res = search.cv_results_
    print(
        f"  states {[str(v) for v in res['state']]}, mean recall@5 "
        f"{[round(float(v), 3) for v in res['mean_test_score']]}, errors "
        f"{[e for e in res['error'] if e]}"
    )
    print(
        f"  best {search.best_params_} -> {search.best_score_:.3f}; per-epoch "
        f"reports in trial 0: {len(search.study_.trials[0].intermediate_values)}"
    )
    print(
        f"  refitted best: held-out recall@5 "
        f"{search.best_estimator_.score(test, y_test, metric='recall@5'):.3f}"
    )

    # ---------------------------------------------- (c2) fine-tuned fusion
    print(f"\n(c2) FusionClassifier fine-tuning both towers, {device} bf16 vs CPU")
    from skmm.fusion import FusionClassifier

    accs = {}
    for dev, precision in ((device, "bf16"), ("cpu", "fp32")):
        if dev == device and dev == "cpu" and "cpu" in accs:
            continue
        text, image = encoders(tiny, dev)
        clf = FusionClassifier(
            fusion="attention",
            encoders={"text": text, "image": image},
            unfreeze={"text": 1, "image": 2},
            max_epochs=epochs,
            precision=precision,
            random_state=0,
            device=dev,
        )
        timed(
            f"fusion fit (attention, tuned), {precision}",
            dev,
            lambda clf=clf: clf.fit(train, y_train),
        )
        accs[dev] = (clf.score(test, y_test), clf.predict(test))
    line = ", ".join(f"{d}: held-out accuracy {a:.3f}" for d, (a, _) in accs.items())
    if device != "cpu":
        agree = float(np.mean(accs[device][1] == accs["cpu"][1]))
        line += f"; predictions agree on {agree:.0%} of rows"
    print("  " + line)

    # ----------------------------------------------------------- (d) table
    print(f"\n(d) timings ({rows} rows, {epochs} epochs)")
    width = max(len(label) for label, _, _ in TIMES)
    print(f"  {'step':<{width}}  {'device':<7} {'seconds':>8}")
    for label, dev, seconds in TIMES:
        print(f"  {label:<{width}}  {dev:<7} {seconds:>8.2f}")
    tmp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
