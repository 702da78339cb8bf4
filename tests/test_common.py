"""sklearn's estimator checks and skmm's own checks, on every encoder.

sklearn's generic checks feed float matrices.  An encoder reads cells of its
modality (a str, an image, a waveform), so every check that fits or
transforms on random floats fails by design, with skmm's error naming the
column and row of the first float cell; those are listed below with that
reason.  The API checks (parameters, cloning, ``__init__``, tags, repr, ...)
run and must pass.  The same contracts (fit/transform shapes, idempotence,
order and subset invariance, pickling, ``__dict__`` unchanged, feature
names, ``set_output``, bad input) are then checked on real cells by
:func:`skmm.testing.check_encoder`.
"""

from __future__ import annotations

import importlib.util
import tempfile

import numpy as np
import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from skmm.registry import encoders
from skmm.testing import (
    check_encoder,
    make_tiny_audio_model,
    make_tiny_text_model,
    make_tiny_vision_model,
    make_tiny_whisper_model,
)

_FLOAT_CELLS = (
    "fits or transforms on random float cells; an encoder reads cells of its "
    "modality and raises InvalidItemError naming the column and row"
)
_FIT_READS_CELLS = (
    "TfidfTextEncoder learns its vocabulary from the cells at fit, so fitting "
    "on float cells already raises InvalidItemError"
)
_AUDIO_ROWS = (
    "an audio encoder reads each row of a float matrix as one clip; these "
    "checks assume columns are features (n_features_in_ is the clip length, "
    "complex/object/NaN samples are bad clips)"
)

# Checks that need the encoder to *transform* float cells: they fail for
# every encoder that reads cells (text, images).
_TRANSFORMS_FLOATS = [
    "check_fit_score_takes_y",
    "check_estimators_dtypes",
    "check_complex_data",
    "check_dtype_object",
    "check_pipeline_consistency",
    "check_estimators_pickle",
    "check_f_contiguous_array_estimator",
    "check_transformer_data_not_an_array",
    "check_transformer_general",
    "check_transformer_preserve_dtypes",
    "check_methods_sample_order_invariance",
    "check_methods_subset_invariance",
    "check_dict_unchanged",
    "check_fit_idempotent",
    "check_fit2d_predict1d",
    "check_estimators_nan_inf",
    "check_set_output_transform",
    "check_set_output_transform_pandas",
    "check_global_output_transform_pandas",
    "check_transformer_get_feature_names_out",
    "check_transformer_get_feature_names_out_pandas",
    "check_fit1d",
]
# Checks that only *fit* on float cells: they pass for encoders whose fit does
# not read the cells (pretrained and stateless ones), fail for TF-IDF.
_FITS_FLOATS = [
    "check_estimators_overwrite_params",
    "check_dont_overwrite_parameters",
    "check_estimators_fit_returns_self",
    "check_readonly_memmap_input",
    "check_n_features_in_after_fitting",
    "check_positive_only_tag_during_fit",
    "check_fit2d_1sample",
    "check_fit2d_1feature",
    "check_fit_check_is_fitted",
    "check_n_features_in",
]
# Audio encoders read a numeric 2-D array as a batch of clips (one per row),
# so sklearn's float matrices are valid input and most checks pass; these
# remain, because a row of random floats is a clip of a few samples whose
# features are not comparable with sklearn's expectations on columns.
_AUDIO_FAILS = [
    c
    for c in _TRANSFORMS_FLOATS
    if c
    not in {
        "check_dict_unchanged",
        "check_estimators_dtypes",
        "check_f_contiguous_array_estimator",
        "check_fit1d",
        "check_fit_idempotent",
        "check_fit_score_takes_y",
        "check_methods_sample_order_invariance",
        "check_methods_subset_invariance",
        "check_pipeline_consistency",
        "check_transformer_preserve_dtypes",
    }
] + ["check_n_features_in", "check_n_features_in_after_fitting"]


def _expected_failed_checks(estimator) -> dict[str, str]:
    name = type(estimator).__name__
    if estimator._modality == "audio":
        out = dict.fromkeys(_AUDIO_FAILS, _AUDIO_ROWS)
        out["check_estimators_dtypes"] = (
            "int64 waveforms are refused (only int16 / int32 are PCM with a known "
            "full scale; other integers would be a guess); tests/fuzz/test_audio.py "
            "covers the refusal"
        )
        return out
    out = dict.fromkeys(_TRANSFORMS_FLOATS, _FLOAT_CELLS)
    if name == "TfidfTextEncoder":
        out.update(dict.fromkeys(_FITS_FLOATS, _FIT_READS_CELLS))
        del out["check_fit1d"]  # 1-D input is a valid column of texts
    return out


# Encoders that need a model folder get a tiny random one, built once here.
_TINY_MODELS = {
    "TextEncoder": make_tiny_text_model(tempfile.mkdtemp(prefix="skmm_tiny_bert_")),
    "HFImageEncoder": make_tiny_vision_model(tempfile.mkdtemp(prefix="skmm_tiny_vit_")),
    "HFAudioEncoder": make_tiny_audio_model(tempfile.mkdtemp(prefix="skmm_tiny_w2v_")),
}
if importlib.util.find_spec("ctranslate2") is not None:  # the speech extra
    _TINY_MODELS["WhisperEncoder"] = make_tiny_whisper_model(
        tempfile.mkdtemp(prefix="skmm_tiny_whisper_")
    )

TEXT_ITEMS = ["a red apple", "a green apple", "blue sky", "the sun on the sea", "a dog"]


def _sample_items(modality: str) -> list:
    rng = np.random.RandomState(0)
    if modality == "text":
        return list(TEXT_ITEMS)
    if modality == "image":
        return [rng.randint(0, 256, size=(20, 24, 3), dtype=np.uint8) for _ in range(5)]
    if modality == "audio":
        t = np.arange(8000) / 16000.0
        return [
            (np.sin(2 * np.pi * f * t) * 0.3).astype(np.float32)
            for f in (220, 330, 440, 660, 880)
        ]
    if modality == "video":
        from skmm.video import write_video

        colours = [(255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 0), (0, 0, 0)]
        return [
            write_video([np.full((16, 16, 3), c, np.uint8)] * (3 + i), fps=5)
            for i, c in enumerate(colours)
        ]
    raise ValueError(modality)


def _skipped(cls) -> bool:
    """Encoders whose optional dependency is absent (they skip elsewhere)."""
    if cls.__name__ == "WhisperEncoder":
        return "WhisperEncoder" not in _TINY_MODELS
    return cls.__module__.startswith("skmm.video") and (
        importlib.util.find_spec("av") is None
    )


def _instances():
    """One instance per (encoder class, test parameter set)."""
    out = []
    seen = set()
    for name in encoders.names():
        cls = encoders.get(name)
        if cls in seen or _skipped(cls):
            continue
        seen.add(cls)
        params_list = cls.get_test_params() if hasattr(cls, "get_test_params") else [{}]
        if cls.__name__ in _TINY_MODELS:
            params_list = [{"model": str(_TINY_MODELS[cls.__name__])}]
        if cls.__name__ == "SpeakerEncoder":
            # real weights on every clip make sklearn's checks take minutes;
            # tests/audio/test_resemblyzer.py (slow) tests it against resemblyzer
            params_list = []
        for params in params_list:
            out.append(cls(**{"verbose": 0, **params}))
    return out


INSTANCES = _instances()


# sklearn's checks on one instance per class (they exercise the API, not the
# parameter sets); skmm's own checks below run every parameter set.
SKLEARN_INSTANCES = list({type(e): e for e in reversed(INSTANCES)}.values())


@parametrize_with_checks(
    SKLEARN_INSTANCES, expected_failed_checks=_expected_failed_checks
)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


@pytest.mark.parametrize("encoder", INSTANCES, ids=repr)
def test_skmm_encoder_checks(encoder):
    check_encoder(encoder, _sample_items(encoder._modality))


def test_every_registered_encoder_is_covered():
    classes = {type(e) for e in INSTANCES}
    for name in encoders.names():
        cls = encoders.get(name)
        if cls.__name__ == "SpeakerEncoder" or _skipped(cls):  # see _instances
            continue
        assert cls in classes, f"{name} has no test instance"
