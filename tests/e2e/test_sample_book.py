"""The sample book meets the shape the book issue asks of it: each chapter is real prose (at least
80 lines) around at least five labelled, hidden math cells, publishes numbers only through named
inline values formatted in its cells, and declares at least one headline golden."""

from __future__ import annotations

import re

import pytest
import yaml
from e2e_support import BOOK

from invariants.qmd import read_qmd

CONFIG = yaml.safe_load((BOOK / "_quarto.yml").read_text(encoding="utf-8"))
CHAPTERS = [c for c in CONFIG["book"]["chapters"] if c.startswith("chapters/")]


def prose_lines(text: str) -> list[str]:
    """Lines a reader reads: outside front matter and code cells, not headings or fences."""
    lines, in_cell = [], False
    body = text.split("\n---\n", 1)[1] if text.startswith("---\n") else text
    for line in body.splitlines():
        if line.startswith("```"):
            in_cell = not in_cell
            continue
        if in_cell or not line.strip() or line.startswith(("#", ":::", "$$")):
            continue
        lines.append(line)
    return lines


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_chapter_is_prose_around_labelled_hidden_math_cells(chapter):
    path = BOOK / chapter
    parsed = read_qmd(path)
    math_cells = [cell for cell in parsed.cells if cell.label != "setup"]
    labels = [cell.label for cell in parsed.cells]

    assert len(prose_lines(path.read_text(encoding="utf-8"))) >= 80
    assert len(math_cells) >= 5
    assert None not in labels and len(set(labels)) == len(labels)
    assert all(cell.options.get("echo") is False for cell in parsed.cells)


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_chapter_publishes_named_values_and_a_headline_golden(chapter):
    parsed = read_qmd(BOOK / chapter)
    expressions = {expr.code.strip() for expr in parsed.inline}
    assert expressions, "a chapter with no published numbers is not a chapter of this book"
    assert [e for e in expressions if not re.fullmatch(r"[a-z][a-z0-9_]*", e)] == []

    snapshot = yaml.safe_load((BOOK / "golden" / f"{parsed.name}.yml").read_text("utf-8"))
    assert set(snapshot["inline"]) == expressions
    assert snapshot["golden"], "each chapter pins at least one headline number"
