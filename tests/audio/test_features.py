"""Spectral features: filterbank properties, tone vs noise, librosa parity."""

from __future__ import annotations

import numpy as np
import pytest

from skmm.audio._features import (
    delta,
    hz_to_mel,
    log_mel_spectrogram,
    mel_filterbank,
    mel_frequencies,
    mel_to_hz,
    mfcc,
    pool_time,
    power_spectrogram,
    power_to_db,
)

SR = 16000


@pytest.mark.parametrize("htk", [False, True])
def test_mel_scale_round_trip(htk):
    freqs = np.array([0.0, 100.0, 999.0, 1000.0, 4000.0, 8000.0])
    np.testing.assert_allclose(mel_to_hz(hz_to_mel(freqs, htk=htk), htk=htk), freqs)
    assert np.all(np.diff(hz_to_mel(freqs, htk=htk)) > 0)


def test_slaney_scale_is_linear_below_1khz():
    np.testing.assert_allclose(hz_to_mel([200.0, 400.0]), [3.0, 6.0])
    assert np.isclose(hz_to_mel(1000.0), 15.0)


def test_filterbank_shape_and_triangles():
    fb = mel_filterbank(SR, 512, n_mels=40)
    assert fb.shape == (40, 257) and fb.dtype == np.float32
    assert (fb >= 0).all() and (fb.max(axis=1) > 0).all()
    # each filter is one triangle: non-zero on one contiguous run of bins
    for row in fb:
        nz = np.flatnonzero(row)
        assert np.all(np.diff(nz) == 1)
    # centres rise with the filter index
    assert np.all(np.diff(fb.argmax(axis=1)) >= 0)


def test_filterbank_unnormalised_is_a_partition_of_unity():
    n_fft, n_mels = 2048, 40
    fb = mel_filterbank(SR, n_fft, n_mels=n_mels, norm=None)
    assert np.isclose(fb.max(), 1.0, atol=0.05)
    edges = mel_frequencies(n_mels + 2, fmin=0.0, fmax=SR / 2)
    freqs = np.fft.rfftfreq(n_fft, 1.0 / SR)
    inside = (freqs >= edges[1]) & (freqs <= edges[n_mels])
    np.testing.assert_allclose(fb[:, inside].sum(axis=0), 1.0, atol=1e-5)


def test_filterbank_slaney_norm_gives_unit_area():
    n_fft = 4096  # fine bins, so the sum approximates the integral
    fb = mel_filterbank(SR, n_fft, n_mels=32)
    area = fb.sum(axis=1) * (SR / n_fft)
    np.testing.assert_allclose(area, 1.0, rtol=0.05)


def test_filterbank_warns_on_empty_filters():
    with pytest.warns(UserWarning, match="mel filters are empty"):
        mel_filterbank(SR, 64, n_mels=64)
    with pytest.raises(ValueError, match="norm"):
        mel_filterbank(SR, 512, norm="l2")


def test_power_spectrogram_finds_the_tone(tone):
    spec = power_spectrogram(tone(1000.0), n_fft=512, hop_length=160)
    assert spec.shape == (257, 1 + (SR // 2) // 160)
    assert np.all(spec[:, 5:-5].argmax(axis=0) == 32)  # 1000 Hz / 31.25 Hz
    # a clip shorter than a frame still gives one frame
    assert power_spectrogram(np.ones(10), n_fft=512, hop_length=160).shape == (257, 1)


def test_power_to_db():
    np.testing.assert_allclose(power_to_db(np.array([100.0, 1e-20])), [20.0, -100.0])
    floored = power_to_db(np.array([1.0, 1e-3, 1e-12]), top_db=50.0)
    np.testing.assert_allclose(floored, [0.0, -30.0, -50.0])


def test_log_mel_and_mfcc_of_tone_and_noise_differ(tone, noise):
    kw = {"n_fft": 512, "hop_length": 160, "n_mels": 40}
    lm_tone = log_mel_spectrogram(tone(440.0), SR, **kw)
    lm_noise = log_mel_spectrogram(noise(), SR, **kw)
    assert lm_tone.shape == lm_noise.shape == (40, 51)
    # the tone's energy sits in the band around 440 Hz; noise is spread out
    centres = mel_frequencies(42, fmax=SR / 2)[1:-1]
    band = np.abs(centres - 440.0).argmin()
    assert abs(int(np.median(lm_tone.argmax(axis=0))) - band) <= 1
    assert lm_tone.std(axis=0).mean() > 2 * lm_noise.std(axis=0).mean()
    c_tone = mfcc(log_mel=lm_tone)
    c_noise = mfcc(log_mel=lm_noise)
    assert c_tone.shape == (20, 51)
    gap = np.linalg.norm(c_tone.mean(1) - c_noise.mean(1))
    assert gap > 10 * np.linalg.norm(c_noise[:, 5:-5].std(1)) / np.sqrt(20)
    np.testing.assert_allclose(mfcc(tone(440.0), SR, **kw), c_tone)
    with pytest.raises(ValueError, match="waveform or a log-mel"):
        mfcc()


def test_delta_of_a_ramp_is_its_slope():
    ramp = np.tile(np.arange(30.0) * 2.0, (3, 1))
    np.testing.assert_allclose(delta(ramp), 2.0, atol=1e-9)
    np.testing.assert_allclose(delta(ramp, order=2), 0.0, atol=1e-9)
    # short sequences still work
    assert delta(ramp[:, :4]).shape == (3, 4)
    np.testing.assert_allclose(delta(ramp[:, :4]), 2.0, atol=1e-9)
    assert not delta(ramp[:, :2]).any()


def test_pool_time():
    seq = np.random.default_rng(0).normal(size=(3, 50))
    np.testing.assert_allclose(pool_time(seq, "mean"), seq.mean(1))
    np.testing.assert_allclose(
        pool_time(seq, "meanstd"), np.r_[seq.mean(1), seq.std(1)]
    )
    frames = pool_time(seq, "frames", n_frames=5).reshape(5, 3)
    np.testing.assert_allclose(frames, seq.reshape(3, 5, 10).mean(2).T)
    # short sequences are interpolated, not padded: a constant stays constant
    const = np.full((2, 3), 7.0)
    np.testing.assert_allclose(pool_time(const, "frames", n_frames=8), 7.0)
    ramp = np.arange(4.0)[None, :]
    up = pool_time(ramp, "frames", n_frames=8)
    assert np.all(np.diff(up) >= 0) and up[0] == 0.0 and up[-1] == 3.0
    with pytest.raises(ValueError, match="unknown pooling"):
        pool_time(seq, "median")


# -- parity with librosa (a test-only comparison; skmm does not need it) ----


@pytest.fixture(scope="module")
def librosa():
    return pytest.importorskip("librosa")


@pytest.mark.parametrize(("n_fft", "n_mels"), [(512, 64), (2048, 128)])
def test_filterbank_matches_librosa(librosa, n_fft, n_mels):
    ours = mel_filterbank(SR, n_fft, n_mels=n_mels, fmin=20.0, fmax=7600.0)
    ref = librosa.filters.mel(sr=SR, n_fft=n_fft, n_mels=n_mels, fmin=20.0, fmax=7600.0)
    np.testing.assert_allclose(ours, ref, atol=1e-6 * ref.max())


@pytest.mark.slow  # librosa compiles its numba kernels on first use (seconds)
def test_mfcc_matches_librosa(librosa, tone, noise):
    wave = tone(440.0, seconds=0.3) + noise(seconds=0.3)
    kw = {"n_fft": 512, "hop_length": 160, "n_mels": 40}
    ref_lm = librosa.power_to_db(
        librosa.feature.melspectrogram(y=wave, sr=SR, **kw), top_db=80.0
    )
    np.testing.assert_allclose(log_mel_spectrogram(wave, SR, **kw), ref_lm, atol=1e-3)
    ref = librosa.feature.mfcc(y=wave, sr=SR, n_mfcc=13, **kw)
    ours = mfcc(wave, SR, n_mfcc=13, **kw)
    np.testing.assert_allclose(ours, ref, atol=1e-3 * np.abs(ref).max())
    np.testing.assert_allclose(
        delta(ours), librosa.feature.delta(ref), atol=1e-3 * np.abs(ref).max()
    )
