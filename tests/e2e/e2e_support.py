"""Shared helpers for the end-to-end tests: the sample book's paths, running the real
``mlsysim check`` command in a subprocess, and finding ``.qmd`` lines from a chapter's text
(so expected line numbers follow the fixtures instead of being typed by hand)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
BOOK = REPO / "book_fixtures"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def mlsysim_command() -> list[str]:
    """The installed ``mlsysim`` console script beside this interpreter (the README's command)."""
    script = Path(sys.executable).with_name("mlsysim")
    if script.exists():
        return [str(script)]
    found = shutil.which("mlsysim")
    assert found, "the mlsysim console script is not installed (pip install -e .)"
    return [found]


def run_check(
    args: list[str], cwd: Path, env: dict[str, str] | None = None, timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    """Run ``mlsysim check ARGS`` as a user would, from ``cwd``, with a wide console."""
    environment = {**os.environ, "COLUMNS": "200", **(env or {})}
    return subprocess.run(
        [*mlsysim_command(), "check", *args],
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def read_report(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def inline_line(text: str, key: str) -> int:
    """1-based line of the first `` `{python} key` `` in ``text``."""
    marker = f"`{{python}} {key}`"
    for number, line in enumerate(text.splitlines(), start=1):
        if marker in line:
            return number
    raise AssertionError(f"no inline {marker} in the chapter")


def line_of(text: str, snippet: str) -> int:
    """1-based line of the one line of ``text`` that contains ``snippet``."""
    hits = [n for n, line in enumerate(text.splitlines(), start=1) if snippet in line]
    assert len(hits) == 1, f"{snippet!r} is on lines {hits}, expected exactly one"
    return hits[0]


def one_chapter_book(root: Path, chapter_text: str, stem: str) -> Path:
    """A book folder holding one chapter (``chapters/<stem>.qmd``) and the sample book's golden
    snapshot for that chapter, as an author's checkout would have them."""
    (root / "chapters").mkdir(parents=True)
    (root / "golden").mkdir()
    (root / "chapters" / f"{stem}.qmd").write_text(chapter_text, encoding="utf-8")
    shutil.copy(BOOK / "golden" / f"{stem}.yml", root / "golden" / f"{stem}.yml")
    return root
