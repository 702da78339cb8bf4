"""SpeechTranscriber and WhisperEncoder on a tiny random CTranslate2 Whisper
(built here, no download), and on the packaged tiny.en (``slow``)."""

from __future__ import annotations

import math
import pickle
import shutil
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import soundfile as sf
from sklearn.base import clone
from sklearn.pipeline import make_pipeline

pytest.importorskip("faster_whisper", reason="needs the speech extra (faster-whisper)")

from sklearn.utils._param_validation import InvalidParameterError  # noqa: E402

from skmm.audio import SpeechTranscriber, WhisperEncoder  # noqa: E402
from skmm.base._pretrained import clear_model_cache  # noqa: E402
from skmm.cache import cache_stats  # noqa: E402
from skmm.exceptions import (  # noqa: E402
    InvalidItemError,
    InvalidItemWarning,
    MissingDependencyError,
    MissingModelError,
)
from skmm.registry import encoders  # noqa: E402
from skmm.testing import (  # noqa: E402
    check_encoder,
    make_tiny_text_model,
    make_tiny_whisper_model,
)

SR = 16000


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return make_tiny_whisper_model(tmp_path_factory.mktemp("tiny_whisper"))


@pytest.fixture
def asr(tiny):
    return SpeechTranscriber(tiny, temperature=0.0, device="cpu", verbose=0)


@pytest.fixture
def clips(noise, tone):
    return [noise(1.0, seed=1), tone(330.0, seconds=0.5), noise(0.7, seed=2)]


# -- SpeechTranscriber ------------------------------------------------------
def test_transcripts_one_column_per_input_column(asr, clips):
    X = pd.DataFrame({"a": [clips[0], None, clips[1]], "b": [clips[2]] * 3})
    out = asr.fit_transform(X)
    assert out.shape == (3, 2) and out.dtype == object
    assert out[1, 0] is None
    assert all(isinstance(t, str) and t for t in (out[0, 0], out[2, 0], out[0, 1]))
    # identical cells, identical transcripts (the column de-duplicated)
    assert out[0, 1] == out[1, 1] == out[2, 1]
    assert asr.get_feature_names_out().tolist() == ["a_text", "b_text"]
    assert asr.n_features_in_ == 2 and list(asr.feature_names_in_) == ["a", "b"]
    assert asr.compute_type_ == "int8" and asr.device_ == "cpu"
    assert asr.sampling_rate_ == SR and asr.multilingual_ is False


def test_every_cell_kind_gives_the_same_transcript(asr, tone, tmp_path):
    wave = tone(440.0, seconds=0.6)
    sf.write(tmp_path / "clip.wav", wave, SR)
    slow = wave[::2].copy()  # the same tone at 8 kHz
    cells = [
        wave,
        str(tmp_path / "clip.wav"),
        (tmp_path / "clip.wav").read_bytes(),
        wave.tolist(),
    ]
    out = asr.fit_transform(cells)[:, 0]
    assert len(set(out)) == 1, out
    assert isinstance(asr.transform([(slow, 8000)])[0, 0], str)


def test_set_output_pandas(asr, clips):
    out = asr.set_output(transform="pandas").fit_transform(
        pd.DataFrame({"speech": clips})
    )
    assert list(out.columns) == ["speech_text"] and len(out) == 3


def test_pipeline_into_a_text_encoder(asr, clips, tmp_path):
    from skmm.text import TextEncoder

    text_model = make_tiny_text_model(tmp_path / "bert")
    pipe = make_pipeline(asr, TextEncoder(text_model, device="cpu", verbose=0))
    emb = pipe.fit_transform([clips[0], None, clips[1]])
    assert emb.shape == (3, 32) and emb.dtype == np.float32
    assert np.isnan(emb[1]).all() and np.isfinite(emb[[0, 2]]).all()


def test_cache_serves_transcripts_and_rejects_corrupt_entries(
    asr, clips, tmp_path, monkeypatch
):
    root = tmp_path / "cache"
    first = clone(asr).set_params(cache=root).fit(clips).transform(clips)
    assert cache_stats(root)["writes"] == 3
    entries = sorted(root.glob("*/*/*.txt"))
    assert len(entries) == 3

    def boom(self, wave):
        raise AssertionError("transcribed although cached")

    fresh = clone(asr).set_params(cache=root).fit(clips)
    with monkeypatch.context() as m:
        m.setattr(SpeechTranscriber, "_transcribe_one", boom)
        np.testing.assert_array_equal(fresh.transform(clips), first)
    assert cache_stats(root)["hits"] == 3

    raw = bytearray(entries[0].read_bytes())
    raw[0] ^= 0xFF  # a flipped bit: detected by the CRC, never served
    entries[0].write_bytes(bytes(raw))
    np.testing.assert_array_equal(fresh.transform(clips), first)
    assert cache_stats(root)["corrupt"] == 1 and cache_stats(root)["writes"] == 4
    # another decoding setting is another namespace
    clone(asr).set_params(cache=root, beam_size=2).fit(clips).transform(clips[:1])
    assert len({p.parent.parent for p in root.glob("*/*/*.txt")}) == 2


def test_bad_cell_names_column_and_row(asr, clips, tmp_path):
    X = pd.DataFrame(
        {"speech": [clips[0], str(tmp_path / "missing.wav"), clips[1]]},
        index=["r0", "r1", "r2"],
    )
    with pytest.raises(InvalidItemError, match=r"column 'speech', row 'r1'.*missing"):
        clone(asr).fit(X).transform(X)
    lenient = clone(asr).set_params(on_error="nan").fit(X)
    with pytest.warns(InvalidItemWarning, match="1 of 3 items in column 'speech'"):
        out = lenient.transform(X)
    assert out[1, 0] is None and isinstance(out[0, 0], str) and out[2, 0]


def test_error_mid_batch_keeps_earlier_transcripts(asr, clips, tmp_path):
    root = tmp_path / "cache"
    X = [clips[0], clips[1], "/no/such/clip.wav", clips[2]]
    with pytest.raises(InvalidItemError, match="row 2"):
        clone(asr).set_params(cache=root).fit(X).transform(X)
    assert len(list(root.glob("*/*/*.txt"))) == 2  # the work before it is kept


def test_bad_model_folders_are_named(tmp_path, tiny):
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(MissingModelError, match=r"empty'.*no model.bin"):
        SpeechTranscriber(empty, verbose=0).fit([np.zeros(100)])
    with pytest.raises(MissingModelError, match="No model folder at"):
        SpeechTranscriber(tmp_path / "nowhere", verbose=0).fit([np.zeros(100)])
    broken = tmp_path / "broken"
    shutil.copytree(tiny, broken)
    (broken / "model.bin").write_bytes(b"not a model")
    with pytest.raises(MissingModelError, match=r"could not load.*broken'"):
        WhisperEncoder(broken, device="cpu", verbose=0).fit([np.zeros(100)])


def test_missing_extra_names_the_install_command(asr, monkeypatch):
    clear_model_cache()
    monkeypatch.setitem(sys.modules, "faster_whisper", None)
    with pytest.raises(MissingDependencyError, match=r"skmm\[speech\]"):
        clone(asr).fit([np.zeros(100)])


def test_parameters_are_validated_at_fit(asr):
    with pytest.raises(ValueError, match="language='fr'.*English-only"):
        clone(asr).set_params(language="fr").fit([np.zeros(100)])
    assert clone(asr).set_params(language="en").fit([np.zeros(100)])
    with pytest.raises(InvalidParameterError, match="beam_size"):
        clone(asr).set_params(beam_size=0).fit([np.zeros(100)])
    with pytest.raises(InvalidParameterError, match="compute_type"):
        clone(asr).set_params(compute_type="int3").fit([np.zeros(100)])
    with pytest.raises(ValueError, match="temperature"):
        clone(asr).set_params(temperature=()).fit([np.zeros(100)])
    with pytest.raises(ValueError, match="not a CTranslate2 device"):
        clone(asr).set_params(device="tpu").fit([np.zeros(100)])


def test_pickle_keeps_parameters_not_weights(asr, clips):
    fitted = clone(asr).fit(clips)
    blob = pickle.dumps(fitted)
    assert len(blob) < 10_000
    clear_model_cache()
    np.testing.assert_array_equal(
        pickle.loads(blob).transform(clips), fitted.transform(clips)
    )


# -- WhisperEncoder ---------------------------------------------------------
def _manual_states(folder, wave):
    """Encoder states of one 30 s window, computed directly."""
    import ctranslate2
    from faster_whisper import WhisperModel
    from faster_whisper.audio import pad_or_trim

    model = WhisperModel(str(folder), device="cpu", compute_type="int8")
    mel = pad_or_trim(model.feature_extractor(wave))
    view = ctranslate2.StorageView.from_array(mel[None].astype(np.float32))
    return np.asarray(model.model.encode(view, to_cpu=True))[0]


def test_encoder_pools_the_frames_that_hold_audio(tiny, noise):
    wave = noise(0.5, seed=3)
    emb = WhisperEncoder(tiny, device="cpu", verbose=0).fit_transform([wave])[0]
    states = _manual_states(tiny, wave)
    n = math.ceil(len(wave) / 320)  # 20 ms per encoder frame
    np.testing.assert_allclose(emb, states[:n].mean(0), rtol=1e-5, atol=1e-6)
    assert not np.allclose(emb, states.mean(0), atol=1e-3)  # padding left out


def test_encoder_windows_batches_and_pooling(tiny, noise):
    long = noise(40.0, seed=4)
    short = noise(0.3, seed=5)
    enc = WhisperEncoder(tiny, device="cpu", verbose=0, batch_size=2)
    both = enc.fit_transform([short, long])
    assert both.shape == (2, 16) and enc.n_features_out_ == 16
    # a clip's embedding does not depend on its batch companions
    np.testing.assert_allclose(both[0], enc.transform([short])[0], atol=1e-6)
    # the default keeps the first 30 s; max_seconds=None pools both windows
    np.testing.assert_allclose(both[1], enc.transform([long[: 30 * SR]])[0], atol=1e-6)
    full = clone(enc).set_params(max_seconds=None).fit([long]).transform([long])[0]
    first = _manual_states(tiny, long[: 30 * SR])
    second = _manual_states(tiny, long[30 * SR :])
    expected = np.concatenate([first, second[: math.ceil(10 * SR / 320)]]).mean(0)
    np.testing.assert_allclose(full, expected, rtol=1e-5, atol=1e-6)
    top = clone(enc).set_params(pooling="max", normalize=True).fit([short])
    unit = top.transform([short, long])
    np.testing.assert_allclose(np.linalg.norm(unit, axis=1), 1.0, rtol=1e-5)


def test_encoder_is_registered_and_conforms(tiny, noise, tone):
    assert encoders.get("whisper") is WhisperEncoder
    items = [noise(0.4, seed=s) for s in range(3)] + [tone(440.0, seconds=0.3)]
    check_encoder(WhisperEncoder(tiny, device="cpu", verbose=0), items)


# -- the packaged tiny.en (real weights) -------------------------------------
@pytest.mark.slow
@pytest.mark.data
def test_tiny_en_transcribes_tuxpaint_descriptions():
    from skmm.datasets import DataNotFoundError, load_tuxpaint

    try:
        df = load_tuxpaint()
    except DataNotFoundError:
        pytest.skip("needs `skmm datasets fetch tuxpaint`")
    df = df[df["description_audio"].notna()].head(16)
    texts = SpeechTranscriber(device="cpu", verbose=0).fit_transform(
        df[["description_audio"]]
    )[:, 0]
    words = [c.lower().rstrip(".").split()[-1] for c in df["caption"]]
    found = [w in t.lower() for w, t in zip(words, texts)]
    # tiny.en hears 8 of these 16 one-word descriptions right (crow -> "Pro.")
    assert sum(found) >= 7, list(zip(df["caption"], texts))


@pytest.mark.slow
def test_tiny_en_transcribes_synthetic_speech(tmp_path):
    espeak = shutil.which("espeak-ng")
    if espeak is None:
        pytest.skip("espeak-ng is not installed (apt-get install espeak-ng)")
    path = tmp_path / "apple.wav"
    subprocess.run([espeak, "-w", str(path), "a red apple on the table"], check=True)
    text = SpeechTranscriber(device="cpu", verbose=0).fit_transform([str(path)])
    assert "apple" in text[0, 0].lower(), text
    emb = WhisperEncoder(device="cpu", verbose=0).fit_transform([str(path)])
    assert emb.shape == (1, 384) and np.isfinite(emb).all()
