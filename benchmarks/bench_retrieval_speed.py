"""Search speed: ExactIndex vs faiss.IndexFlatIP vs numpy, and HNSW recall.

One timed run per method (after a warm-up search of a few queries, so lazy
initialisation is not timed), on a float32 gallery of L2-normalised vectors:

- ``exact``: :class:`skmm.retrieval.ExactIndex` (torch, chunked);
- ``faiss-flat``: ``faiss.IndexFlatIP`` directly;
- ``numpy``: ``Q @ G.T`` per block of queries + ``np.argpartition``;
- ``hnsw``: :class:`skmm.retrieval.FaissIndex(kind="hnsw")`, recall@10
  measured against the exact top-10.

Data (``--data``): ``gaussian`` draws i.i.d. normal vectors (the hardest
case for a graph index: no structure at all); ``embedding`` draws vectors
like real sentence/image embeddings: a mixture of 2,000 clusters in a
64-dimensional latent space with a decaying spectrum, mapped to ``dim``
dimensions plus isotropic noise.

The gallery is generated in blocks and every index is deleted before the
next is built, so the peak memory is about two copies of the gallery
(1.5 GB each at 1M x 384) plus HNSW's graph.

Usage::

    python benchmarks/bench_retrieval_speed.py --n-gallery 100000
    python benchmarks/bench_retrieval_speed.py --n-gallery 1000000 --data embedding
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import time
from pathlib import Path

import numpy as np


def make_vectors(n: int, dim: int, kind: str, seed: int) -> np.ndarray:
    """``n`` L2-normalised float32 vectors, made block by block."""
    rng = np.random.default_rng(seed)
    out = np.empty((n, dim), dtype=np.float32)
    if kind == "embedding":
        # one fixed "model" for gallery and queries (seed-independent)
        model = np.random.default_rng(12345)
        latent, n_clusters = 64, 2000
        spectrum = (np.arange(1, latent + 1) ** -0.5).astype(np.float32)
        A = model.standard_normal((latent, dim), dtype=np.float32) / np.sqrt(latent)
        centres = model.standard_normal((n_clusters, latent), dtype=np.float32)
    block = 50_000
    for start in range(0, n, block):
        m = min(block, n - start)
        if kind == "gaussian":
            x = rng.standard_normal((m, dim), dtype=np.float32)
        else:
            c = centres[rng.integers(0, n_clusters, m)]
            z = c + 0.7 * rng.standard_normal((m, latent), dtype=np.float32)
            x = (z * spectrum) @ A
            x += 0.05 * rng.standard_normal((m, dim), dtype=np.float32)
        x /= np.linalg.norm(x, axis=1, keepdims=True)
        out[start : start + m] = x
    return out


def numpy_topk(G: np.ndarray, Q: np.ndarray, k: int, block: int = 100):
    idx = np.empty((Q.shape[0], k), np.int64)
    for s in range(0, Q.shape[0], block):
        S = Q[s : s + block] @ G.T
        part = np.argpartition(-S, k - 1, axis=1)[:, :k]
        vals = np.take_along_axis(S, part, 1)
        order = np.argsort(-vals, axis=1, kind="stable")
        idx[s : s + block] = np.take_along_axis(part, order, 1)
    return idx


def timed(fn, *args):
    t0 = time.perf_counter()
    out = fn(*args)
    return out, time.perf_counter() - t0


def recall_vs(approx: np.ndarray, exact: np.ndarray) -> float:
    k = exact.shape[1]
    return float(np.mean([len(set(a) & set(e)) / k for a, e in zip(approx, exact)]))


def run(args) -> dict:
    import faiss
    import torch

    from skmm.retrieval import ExactIndex, FaissIndex

    n, d, nq, k = args.n_gallery, args.dim, args.n_queries, args.k
    print(
        f"gallery {n:,} x {d} float32 ({n * d * 4 / 2**30:.2f} GiB), "
        f"{nq} queries, top-{k}, data={args.data}",
        flush=True,
    )
    G = make_vectors(n, d, args.data, seed=args.seed)
    Q = make_vectors(nq, d, args.data, seed=args.seed + 1)
    res: dict = {
        "n_gallery": n,
        "dim": d,
        "n_queries": nq,
        "k": k,
        "data": args.data,
        "torch_threads": torch.get_num_threads(),
        "faiss_threads": faiss.omp_get_max_threads(),
        "cpu": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "loadavg_start": os.getloadavg()[0],
    }

    # skmm ExactIndex
    index = ExactIndex(chunk_size=args.chunk_size, device="cpu")
    _, res["exact_add_s"] = timed(index.add, G)
    index.search(Q[:8], k)
    (exact_idx, _), t = timed(index.search, Q, k)
    res["exact_qps"] = nq / t
    print(f"ExactIndex         {res['exact_qps']:10.1f} q/s", flush=True)
    del index
    gc.collect()

    # faiss flat
    flat = faiss.IndexFlatIP(d)
    flat.add(G)
    flat.search(Q[:8], k)
    (_, flat_idx), t = timed(flat.search, Q, k)
    res["faiss_flat_qps"] = nq / t
    res["flat_equals_exact"] = float((flat_idx == exact_idx).mean())
    print(f"faiss IndexFlatIP  {res['faiss_flat_qps']:10.1f} q/s", flush=True)
    del flat
    gc.collect()

    # numpy
    if not args.skip_numpy:
        numpy_topk(G, Q[:8], k)
        np_idx, t = timed(numpy_topk, G, Q, k)
        res["numpy_qps"] = nq / t
        res["numpy_equals_exact"] = float((np_idx == exact_idx).mean())
        print(f"numpy argpartition {res['numpy_qps']:10.1f} q/s", flush=True)

    res["exact_vs_faiss_flat"] = res["exact_qps"] / res["faiss_flat_qps"]
    print(f"ExactIndex / faiss flat q/s = {res['exact_vs_faiss_flat']:.2f}", flush=True)

    if not args.skip_hnsw:
        hnsw = FaissIndex(
            kind="hnsw", hnsw_m=args.hnsw_m, ef_construction=args.ef_construction
        )
        _, res["hnsw_build_s"] = timed(hnsw.add, G)
        print(f"HNSW build {res['hnsw_build_s']:.1f} s", flush=True)
        res["hnsw"] = []
        for ef in args.ef_search:
            hnsw.set_params(ef_search=ef)
            hnsw.search(Q[:8], k)
            (h_idx, _), t = timed(hnsw.search, Q, k)
            row = {
                "ef_search": ef,
                "qps": nq / t,
                "recall@10_vs_exact": recall_vs(h_idx, exact_idx),
                "speedup_vs_exact": (nq / t) / res["exact_qps"],
            }
            res["hnsw"].append(row)
            print(
                f"HNSW ef_search={ef:4d} {row['qps']:10.1f} q/s  "
                f"recall@10={row['recall@10_vs_exact']:.3f}  "
                f"x{row['speedup_vs_exact']:.1f} exact",
                flush=True,
            )
        del hnsw
    res["loadavg_end"] = os.getloadavg()[0]
    return res


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--n-gallery", type=int, default=100_000)
    p.add_argument("--dim", type=int, default=384)
    p.add_argument("--n-queries", type=int, default=1000)
    p.add_argument("-k", "--k", type=int, default=10)
    p.add_argument("--data", choices=["gaussian", "embedding"], default="gaussian")
    p.add_argument("--chunk-size", type=int, default=32768)
    p.add_argument("--hnsw-m", type=int, default=32)
    p.add_argument("--ef-construction", type=int, default=80)
    p.add_argument("--ef-search", type=int, nargs="+", default=[64, 128, 256])
    p.add_argument("--skip-numpy", action="store_true")
    p.add_argument("--skip-hnsw", action="store_true")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, default=None, help="write results as JSON")
    args = p.parse_args()
    res = run(args)
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(res, indent=2))
        print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
