"""Audio files and waveforms written on the fly (no data shipped)."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

SR = 16000


def _tone(freq: float = 440.0, seconds: float = 0.5, rate: int = SR, amp: float = 0.5):
    t = np.arange(int(seconds * rate)) / rate
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def _noise(seconds: float = 0.5, rate: int = SR, seed: int = 0, amp: float = 0.1):
    rng = np.random.default_rng(seed)
    return (amp * rng.standard_normal(int(seconds * rate))).astype(np.float32)


@pytest.fixture(scope="module")
def one_torch_thread():
    """Small models run faster on one thread than on several, above all on a
    busy machine, where torch's worker threads wait on each other."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture
def tone():
    """``tone(freq=440, seconds=0.5, rate=16000, amp=0.5)``: a float32 sine."""
    return _tone


@pytest.fixture
def noise():
    """``noise(seconds=0.5, rate=16000, seed=0, amp=0.1)``: float32 noise."""
    return _noise


@pytest.fixture(scope="module")
def audio_dir(tmp_path_factory):
    """A folder with a tone as wav/flac/ogg, a stereo wav, noise, a
    44.1 kHz tone, a text file and a sub-folder."""
    root = tmp_path_factory.mktemp("audio")
    wave = _tone()
    sf.write(root / "tone.wav", wave, SR)
    sf.write(root / "tone.flac", wave, SR)
    sf.write(root / "tone.ogg", wave, SR)
    sf.write(root / "noise.wav", _noise(), SR)
    sf.write(root / "tone_44k.wav", _tone(rate=44100), 44100)
    stereo = np.stack([_tone(440.0), _tone(880.0)], axis=1)
    sf.write(root / "stereo.wav", stereo, SR)
    (root / "notes.txt").write_text("this is not audio\n" * 20)
    (root / "folder.wav").mkdir()
    return root
