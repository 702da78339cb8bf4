"""SpeechTranscriber vs faster-whisper's WhisperModel.transcribe, one run.

    .venv/bin/python benchmarks/bench_speech.py [--beam-sizes 1 5] [--repeats 3]

Both sides transcribe the same clips, one at a time, with the same model
(the packaged tiny.en), compute type (int8 on the CPU) and decoding options,
in the same process; each side's time is the best of ``--repeats`` interleaved runs
(the least disturbed by other work on the machine).
The clips are the 65 English spoken descriptions of Tux Paint's stamps
(``skmm datasets fetch tuxpaint``), decoded to 16 kHz waveforms once, so
both sides see the same arrays; without the data set, synthetic tones (and
the output says so).  Prints clips/s for each side, their ratio
(skmm / faster-whisper, goal >= 0.95), the real-time factor (seconds of
compute per second of audio) and, for real speech, the share of transcripts
that contain the caption's key word, per beam size.
"""

from __future__ import annotations

import argparse
import os
import re
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from _common import median_time  # noqa: E402

RATE = 16000


def _clips() -> tuple[list[np.ndarray], list[str] | None, str]:
    """(waveforms at 16 kHz, captions or None, description of the data)."""
    from skmm.audio import load_audio

    try:
        from skmm.datasets import load_tuxpaint

        df = load_tuxpaint()
        df = df[df["description_audio"].notna()]
        waves = [load_audio(p, sampling_rate=RATE) for p in df["description_audio"]]
        return waves, list(df["caption"]), "Tux Paint spoken descriptions (real)"
    except Exception as exc:  # not fetched
        print(f"Tux Paint not available ({type(exc).__name__}): synthetic tones")
        t = np.arange(2 * RATE) / RATE
        waves = [
            (0.3 * np.sin(2 * np.pi * f * t)).astype(np.float32)
            for f in np.linspace(200, 900, 32)
        ]
        return waves, None, "synthetic 2 s tones (no speech)"


def _key_word(caption: str) -> str:
    """The last word of a caption ("A red fire truck." -> "truck")."""
    words = re.findall(r"[a-z]+", caption.lower())
    return words[-1] if words else ""


def _hit_rate(texts: list[str], captions: list[str] | None) -> float:
    if captions is None:
        return float("nan")
    hits = [_key_word(c) in (t or "").lower() for t, c in zip(texts, captions)]
    return float(np.mean(hits))


_HEADER = (
    "beam  faster-whisper clips/s  skmm clips/s  ratio  RTF (skmm)  "
    "key word found  same text"
)


def _format_row(row: tuple) -> str:
    beam, c_direct, c_skmm, ratio, rtf, hit, same = row
    return (
        f"{beam:<5} {c_direct:<23.2f} {c_skmm:<13.2f} {ratio:<6.3f} "
        f"{rtf:<11.4f} {hit:<15.3f} {same:.3f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--beam-sizes", type=int, nargs="+", default=[1, 5])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--n", type=int, default=None, help="first n clips only")
    parser.add_argument(
        "--fallback",
        action="store_true",
        help="temperature fallback (0.0 .. 1.0, the default of both) instead of "
        "greedy 0.0 only: its sampling is random, so the two sides may not do "
        "the same work",
    )
    args = parser.parse_args()

    from faster_whisper import WhisperModel

    from skmm.audio import SpeechTranscriber

    waves, captions, what = _clips()
    if args.n is not None:
        waves = waves[: args.n]
        captions = None if captions is None else captions[: args.n]
    seconds = sum(len(w) for w in waves) / RATE
    print(f"{len(waves)} clips, {seconds:.1f} s of audio: {what}")
    print(f"device {args.device}, os.cpu_count() {os.cpu_count()}")

    rows = []
    for beam in args.beam_sizes:
        asr = SpeechTranscriber(
            beam_size=beam,
            device=args.device,
            verbose=0,
            batch_size=16,
            **({} if args.fallback else {"temperature": 0.0}),
        ).fit(waves[:1])
        direct = WhisperModel(
            asr.model_path_, device=args.device, compute_type=asr.compute_type_
        )
        temps = asr.temperature
        temps = list(temps) if isinstance(temps, (tuple, list)) else temps

        def run_direct(model=direct, beam=beam, temps=temps):
            out = []
            for w in waves:
                segments, _ = model.transcribe(w, beam_size=beam, temperature=temps)
                out.append("".join(s.text for s in segments).strip())
            return out

        def run_skmm(asr=asr):
            return list(asr.transform(waves)[:, 0])

        run_direct()  # warm-up: first-call allocations on both sides
        run_skmm()
        # interleaved repeats: a busy machine slows both sides alike
        times_direct, times_skmm = [], []
        for _ in range(args.repeats):
            t, ref = median_time(run_direct, 1)
            times_direct.append(t)
            t, ours = median_time(run_skmm, 1)
            times_skmm.append(t)
        t_direct, t_skmm = min(times_direct), min(times_skmm)
        same = float(np.mean([a == b for a, b in zip(ref, ours)]))
        rows.append(
            (
                beam,
                len(waves) / t_direct,
                len(waves) / t_skmm,
                (len(waves) / t_skmm) / (len(waves) / t_direct),
                t_skmm / seconds,
                _hit_rate(ours, captions),
                same,
            )
        )
        print(_HEADER + "\n" + _format_row(rows[-1]), flush=True)

    print()
    print(_HEADER)
    for row in rows:
        print(_format_row(row))


if __name__ == "__main__":
    main()
