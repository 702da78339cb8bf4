"""skorch overhead: FusionClassifier epochs vs a hand-written PyTorch loop.

Both train the *same* module (``skmm.fusion._net.FusionNetwork`` around
``ConcatFusion``, built with the same seed, standardisation and sizes) on
the same data with the same batch size, optimizer (AdamW, same lr and weight
decay) and a fresh random order each epoch.  The hand loop is the plain
idiom: ``randperm``, index the batch, forward, cross-entropy, backward, step,
and ``loss.item()`` for the epoch's log.  ``FusionClassifier`` adds skorch's
callbacks and history, sample weights and its batch iterator.

Epoch time is measured as CPU time of this process (``time.process_time``,
one torch thread) from the start to the end of each epoch — for
FusionClassifier by a skorch callback passed through ``callbacks=``, for the
hand loop around its epoch loop — because on a shared machine wall time
mostly measures the neighbours.  Wall-clock epoch times (skorch's ``dur``)
are reported too.  Runs alternate (ours, hand, ours, hand, ...); the first
epoch of each run is dropped (warm-up) and the median of the rest is
reported, with the ratio.  Setup (validation, standardisation, building the
net) is reported apart as ``fit wall / epochs``.

Shapes: ``emoji`` = the real task's widths (MiniLM 384-d + MobileNetV2
1280-d, 9 classes, 3,000 rows); ``small`` = two 8-d blocks (the worst case
for overhead: almost no compute per batch).

Usage::

    python benchmarks/bench_fusion_overhead.py            # both shapes
    python benchmarks/bench_fusion_overhead.py --shapes emoji --epochs 5
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

SHAPES = {
    "emoji": ({"text": 384, "image": 1280}, 9),
    "small": ({"a": 8, "b": 8}, 2),
}


def make_data(dims: dict, n_classes: int, n: int, seed: int = 0):
    import pandas as pd

    rng = np.random.RandomState(seed)
    cols = [f"{m}__f{i}" for m, d in dims.items() for i in range(d)]
    X = pd.DataFrame(rng.normal(size=(n, len(cols))).astype(np.float32), columns=cols)
    y = rng.randint(0, n_classes, n)
    return X, y


def run_ours(X, y, epochs: int, batch_size: int) -> tuple[list, list, float]:
    from skorch.callbacks import Callback

    from skmm.fusion import FusionClassifier

    class CPUTimer(Callback):
        def initialize(self):
            self.times = []
            return self

        def on_epoch_begin(self, net, **kwargs):
            self._t0 = time.process_time()

        def on_epoch_end(self, net, **kwargs):
            self.times.append(time.process_time() - self._t0)

    timer = CPUTimer()
    clf = FusionClassifier(
        fusion="concat",
        max_epochs=epochs,
        batch_size=batch_size,
        random_state=0,
        callbacks=[timer],
    )
    t0 = time.perf_counter()
    clf.fit(X, y)
    wall = time.perf_counter() - t0
    return timer.times, list(clf.net_.history[:, "dur"]), wall


def run_hand(X, y, epochs: int, batch_size: int) -> tuple[list, list, float]:
    """The same module, data and batch size in a plain PyTorch loop."""
    import torch
    import torch.nn.functional as F

    from skmm.fusion import ConcatFusion
    from skmm.fusion._net import FusionNetwork

    t0 = time.perf_counter()
    Xn = X.to_numpy(dtype=np.float32)
    dims: dict[str, list[int]] = {}
    for j, c in enumerate(X.columns):
        dims.setdefault(c.split("__")[0], []).append(j)
    torch.manual_seed(0)
    module = FusionNetwork(
        fusion_cls=ConcatFusion,
        blocks=dims,
        n_outputs=int(y.max()) + 1,
        hidden_dim=64,
        dropout=0.1,
        missing="learned",
        modality_dropout=0.0,
        mean=Xn.mean(axis=0),
        scale=Xn.std(axis=0),
    )
    opt = torch.optim.AdamW(module.parameters(), lr=1e-3, weight_decay=1e-4)
    Xt, yt = torch.from_numpy(Xn.copy()), torch.from_numpy(y).long()
    gen = torch.Generator().manual_seed(0)
    cpu, durations = [], []
    module.train()
    for _ in range(epochs):
        c0, e0 = time.process_time(), time.perf_counter()
        total = 0.0
        for idx in torch.randperm(len(Xt), generator=gen).split(batch_size):
            opt.zero_grad()
            loss = F.cross_entropy(module(Xt[idx]), yt[idx])
            loss.backward()
            opt.step()
            total += loss.item()
        cpu.append(time.process_time() - c0)
        durations.append(time.perf_counter() - e0)
    return cpu, durations, time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--shapes", nargs="*", default=list(SHAPES))
    parser.add_argument("--n", type=int, default=3000)
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--threads", type=int, default=1, help="torch threads")
    args = parser.parse_args()

    import torch

    torch.set_num_threads(args.threads)
    print(
        f"n={args.n}, batch_size={args.batch_size}, epochs={args.epochs} x "
        f"{args.repeats} runs each, torch threads={torch.get_num_threads()}"
    )
    print(
        "| shape | FusionClassifier epoch, CPU (s) | hand loop epoch, CPU (s) | "
        "ratio (CPU) | FusionClassifier epoch, wall (s) | hand loop epoch, wall (s) "
        "| ratio (wall) | FusionClassifier fit wall / epochs (s) |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for shape in args.shapes:
        dims, n_classes = SHAPES[shape]
        X, y = make_data(dims, n_classes, args.n)
        run_ours(X, y, 1, args.batch_size)  # warm-up (imports, allocator)
        run_hand(X, y, 1, args.batch_size)
        times: dict[str, list] = {k: [] for k in ("oc", "ow", "hc", "hw", "fit")}
        for _ in range(args.repeats):
            c, w, fit = run_ours(X, y, args.epochs, args.batch_size)
            times["oc"] += c[1:]
            times["ow"] += w[1:]
            times["fit"].append(fit / args.epochs)
            c, w, _ = run_hand(X, y, args.epochs, args.batch_size)
            times["hc"] += c[1:]
            times["hw"] += w[1:]
        m = {k: statistics.median(v) for k, v in times.items()}
        print(
            f"| {shape} ({'+'.join(map(str, dims.values()))}-d) | {m['oc']:.3f} | "
            f"{m['hc']:.3f} | {m['oc'] / m['hc']:.2f} | {m['ow']:.3f} | "
            f"{m['hw']:.3f} | {m['ow'] / m['hw']:.2f} | {m['fit']:.3f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
