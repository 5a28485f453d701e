"""docs/engine.md: every ```python example prints exactly the output block that follows it."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

DOC = Path(__file__).resolve().parents[2] / "docs" / "engine.md"
EXAMPLE = re.compile(r"```python\n(.*?)```\n```\n(.*?)```", re.DOTALL)


def test_every_example_prints_its_documented_output():
    examples = EXAMPLE.findall(DOC.read_text(encoding="utf-8"))
    assert len(examples) == 6  # solve, serve, train, sweep, sweep_serve, scenarios
    namespace: dict = {}
    for code, expected in examples:
        buffer = io.StringIO()
        with contextlib.redirect_stdout(buffer):
            exec(compile(code, str(DOC), "exec"), namespace)
        assert buffer.getvalue() == expected, code
