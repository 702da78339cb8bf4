"""Throughput of skmm's ImageEncoder against a plain torch loop.

Both paths run the same network (MobileNetV2, ImageNet weights, 128 px) on
the same real photos with the same preprocessing (PIL bilinear resize of the
shorter side to 146 px, centre crop 128, ImageNet mean/std, average-pooled
1280-d features), in the same process, alternating, best of ``--repeats``.
skmm folds the batch norms into the convolutions when it loads the network
and runs it channels-last (NHWC), so it is compared twice: against the plain
loop over the published network (what a user writes by hand), and against a
plain loop over the same folded, channels-last network (the ratio is then
the cost of skmm's machinery alone: column handling, de-duplication, per-item
error handling, batching, progress bar).
Wall-clock items/s and items per CPU-second (process time, which is less
disturbed by other work on a shared machine) are both printed.

The photos are random crops and flips of scikit-learn's two bundled sample
photos (``china.jpg``, ``flower.jpg``), so every item is distinct (nothing
is saved by de-duplication).  ``--source files`` writes them as JPEG files
first and times decoding as well.

Run::

    .venv/bin/python benchmarks/bench_image_throughput.py
    .venv/bin/python benchmarks/bench_image_throughput.py --n 512 --source files
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from pathlib import Path

import numpy as np


def make_photos(n: int, seed: int = 0) -> list[np.ndarray]:
    """``n`` distinct real photos: random crops (50-100 %) and flips."""
    from sklearn.datasets import load_sample_image

    sources = [load_sample_image("china.jpg"), load_sample_image("flower.jpg")]
    rng = np.random.default_rng(seed)
    photos = []
    for i in range(n):
        src = sources[i % 2]
        h, w = src.shape[:2]
        ch = int(h * rng.uniform(0.5, 1.0))
        cw = int(w * rng.uniform(0.5, 1.0))
        top = int(rng.integers(0, h - ch + 1))
        left = int(rng.integers(0, w - cw + 1))
        crop = src[top : top + ch, left : left + cw]
        if rng.random() < 0.5:
            crop = crop[:, ::-1]
        photos.append(np.ascontiguousarray(crop))
    return photos


def plain_torch(net, cells, size: int, batch_size: int) -> np.ndarray:
    """What a user would write by hand: read, resize + crop, normalise, run."""
    import torch
    from PIL import Image

    from skmm.image import resize_image

    mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
    out = []
    for start in range(0, len(cells), batch_size):
        batch = []
        for cell in cells[start : start + batch_size]:
            img = Image.open(cell) if isinstance(cell, str) else Image.fromarray(cell)
            img = resize_image(img.convert("RGB"), size, "crop", crop_fraction=0.875)
            batch.append(np.asarray(img))
        x = torch.from_numpy(np.stack(batch)).permute(0, 3, 1, 2).float() / 255.0
        with torch.inference_mode():
            feats = net.forward_features((x - mean) / std).mean(dim=(2, 3))
        out.append(feats.numpy())
    return np.concatenate(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=256, help="number of photos")
    parser.add_argument("--size", type=int, default=128, help="input size (px)")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--source", choices=["arrays", "files"], default="arrays")
    args = parser.parse_args()

    import torch

    from skmm.image import ImageEncoder
    from skmm.image._cnn import load_cnn
    from skmm.utils._weights import resolve_weights

    photos = make_photos(args.n)
    tmp = None
    cells: list = photos
    if args.source == "files":
        from PIL import Image

        tmp = tempfile.TemporaryDirectory(prefix="skmm_bench_")
        cells = []
        for i, photo in enumerate(photos):
            path = Path(tmp.name) / f"photo_{i:04d}.jpg"
            Image.fromarray(photo).save(path, quality=90)
            cells.append(str(path))

    enc = ImageEncoder(
        "mobilenet_v2",
        size=args.size,
        batch_size=args.batch_size,
        device="cpu",
        verbose=0,
    ).fit(cells[:1])
    weights = str(resolve_weights("mobilenet_v2", "image"))
    nets = {
        "plain": load_cnn("mobilenet_v2", weights),
        "plain_fused": load_cnn("mobilenet_v2", weights, fuse=True).to(
            memory_format=torch.channels_last
        ),
    }

    def run(name: str) -> np.ndarray:
        if name == "skmm":
            return enc.transform(cells)
        return plain_torch(nets[name], cells, args.size, args.batch_size)

    names = ["skmm", "plain", "plain_fused"]
    for name in names:  # warm up (allocator, oneDNN primitives)
        if name == "skmm":
            enc.transform(cells[: args.batch_size])
        else:
            plain_torch(
                nets[name], cells[: args.batch_size], args.size, args.batch_size
            )

    wall: dict[str, list[float]] = {k: [] for k in names}
    cpu: dict[str, list[float]] = {k: [] for k in names}
    outputs = {}
    for r in range(args.repeats):
        for name in names[r % 3 :] + names[: r % 3]:  # rotate the order
            t0, c0 = time.perf_counter(), time.process_time()
            outputs[name] = run(name)
            wall[name].append(time.perf_counter() - t0)
            cpu[name].append(time.process_time() - c0)

    diff = float(np.abs(outputs["skmm"] - outputs["plain"]).max())
    rate = {k: args.n / min(v) for k, v in wall.items()}
    cpu_rate = {k: args.n / min(v) for k, v in cpu.items()}
    print(
        f"MobileNetV2 @ {args.size}px, {args.n} photos ({args.source}), "
        f"batch {args.batch_size}, torch {torch.__version__}, "
        f"{torch.get_num_threads()} threads, {os.cpu_count()} CPUs, "
        f"{platform.machine()}; best of {args.repeats}"
    )
    print("                                 items/s (wall)   items per CPU-second")
    labels = {
        "skmm": "skmm ImageEncoder",
        "plain": "plain torch loop",
        "plain_fused": "plain loop, skmm's network",
    }
    for name in names:
        print(f"  {labels[name]:<28} {rate[name]:10.1f}   {cpu_rate[name]:18.1f}")
    print(
        f"  ratio skmm / plain           {rate['skmm'] / rate['plain']:10.3f}"
        f"   {cpu_rate['skmm'] / cpu_rate['plain']:18.3f}"
    )
    print(
        f"  ratio skmm / plain, same net {rate['skmm'] / rate['plain_fused']:10.3f}"
        f"   {cpu_rate['skmm'] / cpu_rate['plain_fused']:18.3f}"
    )
    print(f"  max |skmm - plain|           {diff:.2e}")
    if tmp is not None:
        tmp.cleanup()


if __name__ == "__main__":
    main()
