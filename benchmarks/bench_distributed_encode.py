"""Scaling of distributed encoding: in-process vs 1 and 2 Dask workers.

Real pictures: the first ``--n`` emoji PNG files of the emoji data set
(Noto, then OpenMoji, 136 px masters; ``skmm.datasets.fetch("emoji")``),
encoded by path with ``ImageEncoder("mobilenet_v2")`` (1280-d, 224 px by
default), without the embedding cache.  Three ways, one run:

- ``in-process``: ``encoder.transform(paths)`` in this process (torch's own
  intra-op threads, every core);
- ``1 worker`` / ``2 workers``: ``encode_table(paths, encoder,
  client=...)`` on a ``LocalCluster`` of that many single-threaded worker
  processes (Dask sets ``OMP_NUM_THREADS=1`` in each: one core per worker).

Each worker is warmed up first (weights loaded, one partition encoded), so
the timed run is the steady rate; the cold start (cluster, imports, weights)
is printed apart.  Parallel efficiency = rate(2 workers) / (2 x rate(1
worker)).  The output is checked equal to the in-process one.  Last, the
projected time and cost of 10M and 100M images on N workers from the
measured per-worker rate (``--price``: dollars per core-hour).

Run::

    .venv/bin/python -u benchmarks/bench_distributed_encode.py
    .venv/bin/python -u benchmarks/bench_distributed_encode.py --n 400 --size 128
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from pathlib import Path

import numpy as np


def emoji_paths(n: int) -> list[str]:
    from skmm.datasets import get_data_home

    root = Path(get_data_home()) / "emoji" / "images"
    paths = [
        str(p)
        for style in ("noto", "openmoji")
        for p in sorted((root / style).glob("*.png"))
    ]
    if len(paths) < n:
        raise SystemExit(
            f"only {len(paths)} emoji pictures under {root}; run "
            "skmm.datasets.fetch('emoji') first"
        )
    return paths[:n]


def run_workers(n_workers, encoder, paths, warm, partition_size):
    from dask.distributed import Client, LocalCluster

    from skmm.compose import encode_table

    t0 = time.perf_counter()
    with (
        LocalCluster(
            n_workers=n_workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
        ) as cluster,
        Client(cluster) as client,
    ):
        # warm-up: every worker loads the weights and encodes one partition
        encode_table(
            warm, encoder, client=client, partition_size=len(warm) // n_workers
        )
        cold = time.perf_counter() - t0
        t1 = time.perf_counter()
        out = encode_table(paths, encoder, client=client, partition_size=partition_size)
        seconds = time.perf_counter() - t1
    return out, seconds, cold


def project(rate_per_worker, efficiency, price, workers=(1, 8, 64, 512)):
    rows = []
    for n_images in (10_000_000, 100_000_000):
        core_hours = n_images / rate_per_worker / 3600 / efficiency
        for w in workers:
            hours = core_hours / w
            rows.append((n_images, w, hours, core_hours * price))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--size", type=int, default=224)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--partition-size", type=int, default=128)
    parser.add_argument(
        "--price",
        type=float,
        default=0.045,
        help="dollars per core (vCPU) hour (default: about an on-demand "
        "compute-optimised x86 VM)",
    )
    args = parser.parse_args()

    from skmm.image import ImageEncoder

    paths = emoji_paths(args.n + 64)
    warm, paths = paths[args.n :], paths[: args.n]
    encoder = ImageEncoder(
        "mobilenet_v2", size=args.size, batch_size=args.batch_size, verbose=0,
        device="cpu",
    )  # fmt: skip
    encoder.fit(paths[:1])
    print(
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores; "
        f"{args.n} emoji PNGs, MobileNetV2 {args.size} px, batch {args.batch_size}, "
        f"partitions of {args.partition_size}"
    )
    encoder.transform(warm[:32])  # weights loaded, first batch run
    t0 = time.perf_counter()
    expected = encoder.transform(paths)
    in_process = time.perf_counter() - t0
    rates = {"in-process": args.n / in_process}
    print(f"in-process: {in_process:.1f} s, {rates['in-process']:.1f} items/s")
    for w in (1, 2):
        out, seconds, cold = run_workers(w, encoder, paths, warm, args.partition_size)
        np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-5)
        rates[w] = args.n / seconds
        print(
            f"{w} worker(s): {seconds:.1f} s, {rates[w]:.1f} items/s "
            f"(cold start {cold:.1f} s); same output as in-process"
        )
    efficiency = rates[2] / (2 * rates[1])
    print()
    print("| run | items/s | vs in-process | parallel efficiency |")
    print("|---|---|---|---|")
    print(f"| in-process | {rates['in-process']:.1f} | 1.00 | |")
    print(
        f"| 1 worker | {rates[1]:.1f} | {rates[1] / rates['in-process']:.2f} | 1.00 |"
    )
    print(
        f"| 2 workers | {rates[2]:.1f} | {rates[2] / rates['in-process']:.2f} "
        f"| {efficiency:.2f} |"
    )
    print()
    print(
        f"projection at {rates[1]:.1f} items/s per worker core, efficiency "
        f"{min(efficiency, 1.0):.2f}, ${args.price}/core-hour:"
    )
    print("| images | workers | hours | cost |")
    print("|---|---|---|---|")
    for n_images, w, hours, cost in project(rates[1], min(efficiency, 1.0), args.price):
        print(f"| {n_images:,} | {w} | {hours:,.2f} | ${cost:,.2f} |")


if __name__ == "__main__":
    main()
