"""SpeakerEncoder: the missing extra always; the real voice encoder when the
``resemblyzer`` package is installed (slow); real speech from espeak-ng when
it is on the PATH (slow)."""

from __future__ import annotations

import pickle
import shutil
import subprocess
import sys
import warnings

import numpy as np
import pytest
from sklearn.base import clone

from skmm.audio import SpeakerEncoder
from skmm.base._pretrained import clear_model_cache
from skmm.exceptions import InvalidItemError, MissingDependencyError

SR = 16000

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_missing_extra_names_the_install_command(monkeypatch):
    clear_model_cache()  # a voice encoder loaded by another test would hide it
    monkeypatch.setitem(sys.modules, "resemblyzer", None)
    with pytest.raises(
        MissingDependencyError, match=r'pip install "skmm\[resemblyzer\]"'
    ):
        SpeakerEncoder(device="cpu").fit([None])


def test_broken_webrtcvad_gets_a_hint(monkeypatch):
    def broken(module, *, extra=None, package=None):
        raise MissingDependencyError(
            "The optional dependency 'resemblyzer' ... (No module named "
            "'pkg_resources'). Install it with: pip install \"skmm[resemblyzer]\""
        )

    monkeypatch.setattr("skmm.audio._resemblyzer.import_optional", broken)
    clear_model_cache()
    with pytest.raises(MissingDependencyError, match="pip install webrtcvad-wheels"):
        SpeakerEncoder(device="cpu").fit([None])


def test_parameters_without_the_package():
    enc = SpeakerEncoder(trim_silence=False, device="cpu")
    assert clone(enc).get_params()["trim_silence"] is False
    assert SpeakerEncoder.get_test_params() == []


# -- the real pretrained voice encoder --------------------------------------


@pytest.fixture(scope="module")
def resemblyzer():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return pytest.importorskip("resemblyzer")


def _voice_like(seconds: float, f0: float, seed: int) -> np.ndarray:
    """A buzzy harmonic source with a slow pitch wobble and syllable-rate
    bursts: enough for the VAD to call it voiced."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * SR)) / SR
    pitch = f0 * (1 + 0.05 * np.sin(2 * np.pi * 3 * t))
    phase = 2 * np.pi * np.cumsum(pitch) / SR
    wave = sum(np.sin(k * phase) / k for k in range(1, 15))
    envelope = 0.5 + 0.5 * np.sin(2 * np.pi * 4 * t) ** 2
    wave = wave * envelope + 0.01 * rng.standard_normal(t.size)
    return (0.3 * wave / np.abs(wave).max()).astype(np.float32)


@pytest.mark.slow
def test_real_encoder(resemblyzer, tmp_path):
    import soundfile as sf

    low, high = _voice_like(2.0, 110.0, 0), _voice_like(2.0, 220.0, 1)
    sf.write(tmp_path / "low.wav", low, SR)
    enc = SpeakerEncoder(device="cpu", verbose=0)
    X = enc.fit_transform([low, None, high, str(tmp_path / "low.wav")])
    assert X.shape == (4, 256) and X.dtype == np.float32
    assert np.isnan(X[1]).all()
    valid = X[[0, 2, 3]]
    np.testing.assert_allclose(np.linalg.norm(valid, axis=1), 1.0, atol=1e-5)
    assert (valid >= 0).all()
    np.testing.assert_allclose(X[0], X[3], atol=1e-3)  # file = array
    # exactly resemblyzer's own recipe on the same 16 kHz samples
    voice = resemblyzer.VoiceEncoder(device="cpu", verbose=False)
    ref = voice.embed_utterance(resemblyzer.preprocess_wav(low))
    np.testing.assert_allclose(X[0], ref, atol=1e-5)
    assert enc.model_path_.endswith("pretrained.pt")


@pytest.mark.slow
def test_real_encoder_errors_pickle_and_untrimmed(resemblyzer, tone):
    enc = SpeakerEncoder(device="cpu", verbose=0).fit([None])
    with pytest.raises(InvalidItemError, match="row 1 .* silent"):
        enc.transform([tone(), np.zeros(SR)])
    # a pure tone has no speech for the VAD: the untrimmed clip is embedded
    X = enc.transform([tone(seconds=1.0)])
    assert np.isfinite(X).all()
    blob = pickle.dumps(enc)
    assert len(blob) < 5_000
    np.testing.assert_allclose(pickle.loads(blob).transform([tone(seconds=1.0)]), X)
    untrimmed = SpeakerEncoder(trim_silence=False, device="cpu", verbose=0)
    assert untrimmed.fit_transform([_voice_like(1.0, 150.0, 2)]).shape == (1, 256)


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="needs espeak-ng")
def test_synthesised_voices_are_told_apart(resemblyzer, tmp_path):
    """Two espeak-ng voices, two sentences each: the same voice is closer."""
    sentences = [
        "The quick brown fox jumps over the lazy dog near the river bank.",
        "She sells sea shells by the sea shore every summer morning.",
    ]
    paths = {}
    for voice in ("en-us+m3", "en-us+f2"):
        for i, text in enumerate(sentences):
            path = tmp_path / f"{voice.replace('+', '_')}_{i}.wav"
            subprocess.run(
                ["espeak-ng", "-v", voice, "-s", "150", "-w", str(path), text],
                check=True,
                capture_output=True,
            )
            paths[voice, i] = str(path)
    enc = SpeakerEncoder(device="cpu", verbose=0)
    X = enc.fit_transform(list(paths.values()))  # 22.05 kHz files, resampled
    sim = X @ X.T
    same = [sim[0, 1], sim[2, 3]]
    cross = [sim[0, 2], sim[0, 3], sim[1, 2], sim[1, 3]]
    assert min(same) > max(cross) + 0.1
