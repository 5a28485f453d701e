"""Pairs of (python block, output block) from docs/labs.md, for the doc tests."""

from __future__ import annotations

import re
from pathlib import Path

LABS_DOC = Path(__file__).resolve().parents[2] / "docs" / "labs.md"
_PAIR = re.compile(r"```python\n(?P<code>.*?)```\n```\n(?P<output>.*?)```", re.DOTALL)


def doc_examples() -> list[tuple[str, str]]:
    """Every fenced python block of docs/labs.md with the plain block printed right after it."""
    text = LABS_DOC.read_text(encoding="utf-8")
    return [(m["code"], m["output"]) for m in _PAIR.finditer(text)]
