"""The import directions between skmm's subpackages.

Each subpackage (or top-level module) sits in a layer and imports only from
its own layer or the layers below — lazy imports inside functions included.
A new subpackage must be placed here, which is where its place in the
architecture is decided (docs/architecture.md, "Layers").
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "skmm"

# lowest first; a unit imports only from its own layer or lower ones
LAYERS: list[set[str]] = [
    {"exceptions", "utils", "py"},  # py: the package root (`skmm.__version__`)
    {"registry", "cache"},
    {"base"},
    {"metrics", "compose", "testing"},
    {"finetune"},
    {"text", "image", "audio", "video"},
    # generic over any sklearn estimator: reaches fusions and retrievers
    # through the registry, never by import
    {"model_selection"},
    {"fusion", "retrieval"},
    {"report", "datasets"},
    {"cli", "demo", "__main__"},
]
LAYER = {unit: i for i, units in enumerate(LAYERS) for unit in units}


def _unit(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] != "__init__" else "py"


def _imports(path: Path) -> list[tuple[str, int]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
            if node.module == "skmm":  # from skmm import text
                names = [f"skmm.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        else:
            continue
        found += [(n, node.lineno) for n in names if n.split(".")[0] == "skmm"]
    return found


MODULES = sorted(ROOT.rglob("*.py"))


def test_every_unit_has_a_layer():
    units = {
        _unit("skmm." + ".".join(p.relative_to(ROOT).with_suffix("").parts))
        for p in MODULES
    }
    assert units - LAYER.keys() == set()


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_imports_go_down_the_layers(path):
    own = _unit("skmm." + ".".join(path.relative_to(ROOT).with_suffix("").parts))
    against = [
        f"line {line}: {module} (layer {LAYER.get(_unit(module))} > {LAYER[own]})"
        for module, line in _imports(path)
        if _unit(module) in LAYER and LAYER[_unit(module)] > LAYER[own]
    ]
    assert not against, f"{path.relative_to(ROOT)} imports upwards: {against}"
