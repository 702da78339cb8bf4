"""Every ```python block in docs/ runs (```py blocks are illustrations).

The blocks of one page run in order in one module, written to a temporary
file so that classes defined there pickle like real code.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[1] / "docs"
PAGES = sorted(
    p for p in DOCS.rglob("*.md") if re.search(r"^```python$", p.read_text(), re.M)
)


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(DOCS)))
def test_docs_python_blocks_run(page, tmp_path, monkeypatch):
    blocks = re.findall(r"^```python\n(.*?)^```", page.read_text(), flags=re.S | re.M)
    module = tmp_path / f"docs_{page.stem}.py"
    module.write_text("\n\n".join(blocks))
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.chdir(tmp_path)
    spec = importlib.util.spec_from_file_location(module.stem, module)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[module.stem] = mod
    try:
        spec.loader.exec_module(mod)
    finally:
        sys.modules.pop(module.stem, None)


def test_some_pages_have_runnable_examples():
    assert any(p.name == "plugins.md" for p in PAGES)
