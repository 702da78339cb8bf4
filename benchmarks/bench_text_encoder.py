"""skmm TextEncoder("minilm") vs sentence-transformers, same inputs, one run.

    .venv/bin/python benchmarks/bench_text_encoder.py [--n 2000] [--repeats 3]

Prints throughput (texts/s) for sentence-transformers' ``encode``, skmm in
fp32 and skmm with ``quantize="int8"``, the ratios against
sentence-transformers, the max |difference| of fp32 outputs, and the mean
cosine between int8 and fp32 embeddings.
"""

from __future__ import annotations

import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from _common import median_time, real_captions  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    import torch
    from sentence_transformers import SentenceTransformer

    from skmm.text import TextEncoder

    texts = real_captions(args.n)
    print(
        f"{len(texts)} real captions, batch {args.batch_size}, "
        f"torch threads {torch.get_num_threads()}"
    )

    fp32 = TextEncoder("minilm", batch_size=args.batch_size, device="cpu", verbose=0)
    fp32.fit(texts[:1])
    st = SentenceTransformer(fp32.model_path_, device="cpu")
    int8 = TextEncoder(
        "minilm", batch_size=args.batch_size, device="cpu", quantize="int8", verbose=0
    ).fit(texts[:1])
    # warm-up (first-call allocations) for all three
    for f in (
        lambda: st.encode(texts[:64]),
        lambda: fp32.transform(texts[:64]),
        lambda: int8.transform(texts[:64]),
    ):
        f()

    t_st, ref = median_time(
        lambda: st.encode(texts, batch_size=args.batch_size), args.repeats
    )
    t_fp32, ours = median_time(lambda: fp32.transform(texts), args.repeats)
    t_int8, q = median_time(lambda: int8.transform(texts), args.repeats)

    n = len(texts)
    diff = float(np.abs(ours - ref).max())
    cos = float(np.mean(np.sum(q * ours, axis=1)))  # both L2-normalised
    print(f"sentence-transformers : {n / t_st:8.1f} texts/s")
    print(
        f"skmm fp32             : {n / t_fp32:8.1f} texts/s  "
        f"ratio {t_st / t_fp32:.2f}  max|diff| {diff:.2e}"
    )
    print(
        f"skmm int8             : {n / t_int8:8.1f} texts/s  "
        f"ratio {t_st / t_int8:.2f}  mean cosine to fp32 {cos:.4f}"
    )


if __name__ == "__main__":
    main()
