"""The README's commands exist and its Python example runs (it cannot rot)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def test_ci_runs_the_readme_test_command():
    assert "bash scripts/test.sh" in README
    assert "bash scripts/test.sh" in (ROOT / ".ci" / "run").read_text()
    assert "bash scripts/demo.sh" in README
    for script in ("setup_env.sh", "test.sh", "demo.sh"):
        assert (ROOT / "scripts" / script).exists()


def test_setup_installs_cpu_torch_first():
    setup = (ROOT / "scripts" / "setup_env.sh").read_text()
    assert setup.index("torch==2.13.0") < setup.index('-e ".[test]"')


def test_readme_python_examples_run(capsys):
    blocks = re.findall(r"```python\n(.*?)```", README, flags=re.S)
    assert blocks, "the README should show Python code"
    for code in blocks:
        exec(compile(code, "README.md", "exec"), {"__name__": "__readme__"})
    out = capsys.readouterr().out
    assert "['red' 'red' 'blue' 'blue' 'red' 'blue']" in out
