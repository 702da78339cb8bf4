"""Retrieval tests run torch on one thread.

The models here are tiny: with several intra-op threads on a busy machine
the threads mostly wait for each other (a 10x slowdown measured on 2 shared
cores), and one thread is as fast on an idle one.
"""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _one_torch_thread():
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)
