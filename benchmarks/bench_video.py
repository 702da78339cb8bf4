"""Frames/s of skmm's VideoEncoder against a plain PyAV decode + the same
image encoder loop, on the three real clips (``load_sample_videos``).

Both sides sample the same frames (``n_frames`` per clip at the centres of
equal segments, from the header's frame count), decode with PyAV in the
same process with the same decoder settings (``thread_type="AUTO"``,
stopping after the last sampled frame), convert the sampled frames to RGB
arrays and run the same fitted image encoder on them, then mean-pool.  The
ratio is the cost of skmm's machinery (columns, content keys, per-item
error handling, batching).  A third line times a naive loop (default
decoder threads, decoding every frame) for reference.  Alternating runs,
best of ``--repeats``, embedding cache off.

Usage (after ``python -m skmm.datasets fetch sample_videos``)::

    .venv/bin/python benchmarks/bench_video.py
    .venv/bin/python benchmarks/bench_video.py --image-encoder mobilenet_v2
"""

from __future__ import annotations

import argparse
import time

import numpy as np


def plain_loop(paths, image_encoder, n_frames: int, *, naive: bool = False):
    import av

    from skmm.video._io import uniform_indices

    rows = []
    for path in paths:
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            if not naive:
                stream.thread_type = "AUTO"
            wanted = uniform_indices(stream.frames, n_frames)
            last, keep = int(wanted.max()), set(wanted.tolist())
            images = {}
            for i, frame in enumerate(container.decode(stream)):
                if i in keep:
                    images[i] = frame.to_ndarray(format="rgb24")
                if i >= last and not naive:
                    break
        emb = image_encoder.transform([images[int(i)] for i in wanted])
        rows.append(np.asarray(emb, np.float32).mean(axis=0))
    return np.stack(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--image-encoder", default="color-histogram")
    parser.add_argument("--n-frames", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    from skmm.datasets import load_sample_videos
    from skmm.video import VideoEncoder

    paths = load_sample_videos().paths
    enc = VideoEncoder(
        image_encoder=args.image_encoder, n_frames=args.n_frames, verbose=0
    ).fit(paths)
    image = enc.image_encoder_  # the same fitted frame encoder on both sides
    n = len(paths) * args.n_frames
    timings: dict[str, list[float]] = {"skmm": [], "plain": [], "naive": []}
    outputs = {}
    runs = {
        "skmm": lambda: enc.transform(paths),
        "plain": lambda: plain_loop(paths, image, args.n_frames),
        "naive": lambda: plain_loop(paths, image, args.n_frames, naive=True),
    }
    runs["skmm"](), runs["plain"]()  # warm-up (model load, page cache)
    for _ in range(args.repeats):
        for name, fn in runs.items():
            t0 = time.perf_counter()
            outputs[name] = fn()
            timings[name].append(time.perf_counter() - t0)
    diff = float(np.abs(outputs["skmm"] - outputs["plain"]).max())
    best = {k: min(v) for k, v in timings.items()}
    print(
        f"{len(paths)} clips x {args.n_frames} frames, image encoder "
        f"{args.image_encoder} ({enc.frame_dim_}-d); max |skmm - plain| = {diff:.2e}"
    )
    for name in runs:
        print(f"  {name:6s} {n / best[name]:8.1f} frames/s  ({best[name]:.3f} s)")
    print(f"  ratio skmm / plain = {best['plain'] / best['skmm']:.3f} (goal >= 0.95)")
    print(f"  ratio skmm / naive = {best['naive'] / best['skmm']:.3f}")


if __name__ == "__main__":
    main()
