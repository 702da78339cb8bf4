"""Helpers for skmm's tests and for plugin authors' tests.

Tiny randomly initialised models that exercise the real loading code with no
download, and conformance checks that run on real cells of a modality.
"""

from skmm.testing._tiny_audio import make_tiny_audio_model
from skmm.testing._tiny_image import make_tiny_vision_model
from skmm.testing._tiny_text import make_tiny_text_model
from skmm.testing._tiny_whisper import make_tiny_whisper_model
from skmm.testing.estimator_checks import check_encoder, yield_encoder_checks

__all__ = [
    "check_encoder",
    "make_tiny_audio_model",
    "make_tiny_text_model",
    "make_tiny_vision_model",
    "make_tiny_whisper_model",
    "yield_encoder_checks",
]
