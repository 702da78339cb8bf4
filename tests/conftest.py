"""Shared fixtures: seeds, tiny models built once per session."""

from __future__ import annotations

import os
import random
import sys

import numpy as np
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


@pytest.fixture(autouse=True)
def _seeds_fixed():
    """Every test starts from the same global RNG state (skorch's idea)."""
    random.seed(0)
    np.random.seed(0)
    torch = sys.modules.get("torch")  # seed torch only if a test imported it
    if torch is not None:
        torch.manual_seed(0)


@pytest.fixture(params=[0, 1])
def global_random_seed(request):
    """A couple of seeds, for tests that must hold for any seed."""
    return request.param


@pytest.fixture(scope="session")
def tiny_text_model(tmp_path_factory):
    from skmm.testing import make_tiny_text_model

    return make_tiny_text_model(tmp_path_factory.mktemp("tiny_bert"))


@pytest.fixture
def text_encoder(tiny_text_model):
    """A TextEncoder on the tiny 2-layer BERT (a fine-tunable tower)."""
    from skmm.text import TextEncoder

    return TextEncoder(str(tiny_text_model), verbose=0, device="cpu")


@pytest.fixture
def image_encoder():
    """MobileNetV2 at 32 px (a fine-tunable tower; needs its weights package)."""
    from skmm.image import ImageEncoder

    return ImageEncoder("mobilenet_v2", size=32, verbose=0, device="cpu")
