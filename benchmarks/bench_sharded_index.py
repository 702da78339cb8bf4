"""Sharded HNSW build vs the in-memory build, one run.

    .venv/bin/python benchmarks/bench_sharded_index.py [--n 1000000]
        [--shard-size 100000] [--dim 384] [--queries 1000] [--no-in-memory]

Data: a mixture of 1,000 Gaussian clusters in ``--dim`` dimensions (a
unit centre + noise of the same norm, normalised to unit length, like text
embeddings), generated shard by shard (each shard from its own seed) and
written as ``.npy`` shards of ``--shard-size`` rows; 1,000 queries from the
same mixture.

1. Exact top-10 of every query: :func:`skmm.retrieval.search_shards`, one
   shard in memory at a time (timed).
2. Sharded build, in a fresh process: ``build_index_from_shards(folder,
   FaissIndex(kind="hnsw"), max_memory=bound)`` with the bound of
   :func:`estimate_build_memory`; build time, recall@10 against exact,
   the peak RSS during the build (polled every 20 ms) and its rise above
   the RSS just before it (the imports, torch included, are not counted;
   ``ru_maxrss``, the process's lifetime peak, is reported too).
3. In-memory build, in another fresh process: all shards concatenated into
   one array, ``FaissIndex(kind="hnsw").add(X)``; the same measurements.

Writes ``_out/sharded_index_<n>.json``.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

OUT = Path(__file__).resolve().parent / "_out"
N_CLUSTERS = 1000


def rss() -> int:
    """Peak resident memory of this process so far, bytes."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def current_rss() -> int:
    """Resident memory of this process now, bytes (Linux)."""
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * resource.getpagesize()


def mixture(n: int, dim: int, seed: int, centres: np.ndarray) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = centres[rng.integers(0, len(centres), n)]
    x += rng.normal(scale=1.0 / np.sqrt(dim), size=(n, dim)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return x


def make_shards(args: argparse.Namespace, folder: Path) -> np.ndarray:
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(N_CLUSTERS, args.dim)).astype(np.float32)
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    for i, start in enumerate(range(0, args.n, args.shard_size)):
        rows = min(args.shard_size, args.n - start)
        np.save(folder / f"part-{i:05d}.npy", mixture(rows, args.dim, 1 + i, centres))
    return mixture(args.queries, args.dim, 10**6, centres)


class RSSSampler:
    """The highest resident memory seen while in the block (polled, 20 ms)."""

    def __enter__(self) -> RSSSampler:
        import threading

        self.peak = current_rss()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)
        self._thread.start()
        return self

    def _poll(self) -> None:
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, current_rss())

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, current_rss())


def recall_at_10(got: np.ndarray, truth: np.ndarray) -> float:
    return float(np.mean([len(set(g) & set(t)) / len(t) for g, t in zip(got, truth)]))


def child(args: argparse.Namespace) -> None:
    """One build in this process; prints its measurements as JSON."""
    from skmm.retrieval import (
        FaissIndex,
        build_index_from_shards,
        estimate_build_memory,
        iter_shards,
    )

    folder = Path(args.folder)
    Q = np.load(folder / "queries.npy")
    truth = np.load(folder / "truth.npy")
    index = FaissIndex(
        kind="hnsw",
        hnsw_m=args.hnsw_m,
        ef_construction=args.ef_construction,
        ef_search=args.ef_search,
    )
    shards = sorted(folder.glob("part-*.npy"))
    base = current_rss()
    bound = estimate_build_memory(index, args.n, args.dim, args.shard_size)
    t0 = time.perf_counter()
    with RSSSampler() as sampler:
        if args.child == "sharded":
            build_index_from_shards(shards, index, max_memory=bound)
        else:
            X = np.concatenate([x for _, x in iter_shards(shards)])
            index.add(X)
    build = time.perf_counter() - t0
    t0 = time.perf_counter()
    got, _ = index.search(Q, k=10)
    search = time.perf_counter() - t0
    if args.child == "memory":
        bound = 0  # the bound is the sharded build's
    print(
        json.dumps(
            {
                "build_s": round(build, 1),
                "search_ms_per_query": round(1000 * search / len(Q), 3),
                "recall@10": round(recall_at_10(got, truth), 4),
                "peak_rss_mib": round(rss() / 2**20),
                "rss_before_build_mib": round(base / 2**20),
                "peak_during_build_mib": round(sampler.peak / 2**20),
                "build_rise_mib": round((sampler.peak - base) / 2**20),
                **({"bound_mib": round(bound / 2**20)} if bound else {}),
            }
        )
    )


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=1_000_000)
    p.add_argument("--dim", type=int, default=384)
    p.add_argument("--shard-size", type=int, default=100_000)
    p.add_argument("--queries", type=int, default=1000)
    p.add_argument("--hnsw-m", type=int, default=32)
    p.add_argument("--ef-construction", type=int, default=80)
    p.add_argument("--ef-search", type=int, default=128)
    p.add_argument("--no-in-memory", action="store_true")
    p.add_argument("--child", choices=["sharded", "memory"], help=argparse.SUPPRESS)
    p.add_argument("--folder", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        child(args)
        return

    from skmm.retrieval import search_shards

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        t0 = time.perf_counter()
        Q = make_shards(args, folder)
        print(f"data: {args.n} x {args.dim} in {time.perf_counter() - t0:.0f} s")
        np.save(folder / "queries.npy", Q)
        t0 = time.perf_counter()
        truth, _ = search_shards(Q, sorted(folder.glob("part-*.npy")), k=10)
        exact_s = time.perf_counter() - t0
        np.save(folder / "truth.npy", truth)
        print(f"exact top-10 over the shards: {exact_s:.1f} s")
        result = {
            "n": args.n,
            "dim": args.dim,
            "shard_size": args.shard_size,
            "queries": args.queries,
            "hnsw": {
                "M": args.hnsw_m,
                "efConstruction": args.ef_construction,
                "efSearch": args.ef_search,
            },
            "exact_search_shards_s": round(exact_s, 1),
        }
        common = [
            sys.executable, __file__, "--folder", tmp, "--n", str(args.n),
            "--dim", str(args.dim), "--shard-size", str(args.shard_size),
            "--hnsw-m", str(args.hnsw_m), "--ef-search", str(args.ef_search),
            "--ef-construction", str(args.ef_construction),
        ]  # fmt: skip
        for mode in ("sharded", *(() if args.no_in_memory else ("memory",))):
            proc = subprocess.run(
                [*common, "--child", mode], capture_output=True, text=True, check=True
            )
            result[mode] = json.loads(proc.stdout.strip().splitlines()[-1])
            print(mode, result[mode], flush=True)
    OUT.mkdir(exist_ok=True)
    path = OUT / f"sharded_index_{args.n}.json"
    path.write_text(json.dumps(result, indent=2) + "\n")
    print(f"-> {path}")


if __name__ == "__main__":
    main()
