"""Hypothesis profiles of the fuzz suite, and ``fuzz_long`` kept out by default.

``skmm-fuzz`` is what CI runs (about a minute for the whole suite on two
cores); ``skmm-fuzz-long`` backs the tests marked ``fuzz_long``, which run only
when selected: ``pytest tests/fuzz -m fuzz_long``.  ``SKMM_FUZZ_EXAMPLES``
overrides the number of examples of the short profile.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

_COMMON = {
    "deadline": None,
    "print_blob": True,
    "suppress_health_check": [
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.filter_too_much,
    ],
}
settings.register_profile(
    "skmm-fuzz", max_examples=int(os.environ.get("SKMM_FUZZ_EXAMPLES", 150)), **_COMMON
)
settings.register_profile("skmm-fuzz-long", max_examples=600, **_COMMON)


def pytest_collection_modifyitems(config, items):
    """Deselect ``fuzz_long`` tests unless ``-m`` names the marker."""
    if "fuzz_long" in (config.getoption("markexpr", "") or ""):
        return
    keep = [item for item in items if "fuzz_long" not in item.keywords]
    if len(keep) < len(items):
        dropped = [item for item in items if "fuzz_long" in item.keywords]
        config.hook.pytest_deselected(items=dropped)
        items[:] = keep
