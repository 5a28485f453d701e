"""The README is a promise: its tour prints what it shows, and set-up has exactly two commands."""

from __future__ import annotations

import contextlib
import io
import re
import subprocess
import sys
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"
FENCE = re.compile(r"```(?P<lang>\w*)\n(?P<body>.*?)```", re.S)


def section(title: str) -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index(f"## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else None]


def test_set_up_has_exactly_the_two_documented_commands():
    commands = [m["body"].strip() for m in FENCE.finditer(section("Set up"))]
    assert commands == [
        "pip install -e . && mlsysim check",
        'pip install -e ".[test]" && pytest',
    ]


def test_ci_runs_the_readme_test_command():
    ci = (README.parent / ".ci" / "run").read_text(encoding="utf-8")
    assert 'pip install -e ".[test]" &&' in ci
    assert re.search(r"&& pytest\s*$", ci.strip())


def test_tour_prints_what_it_shows():
    blocks = list(FENCE.finditer(section("A 60-second tour")))
    code, shown = blocks[0]["body"], blocks[1]["body"]
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(code, "README tour", "exec"), {"__name__": "__readme__"})
    assert printed.getvalue() == shown


def test_tour_lab_snippet_prints_its_comment():
    code = list(FENCE.finditer(section("A 60-second tour")))[2]["body"]
    expected = re.search(r"^# (Annual Carbon: .*)$", code, re.M).group(1)
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert result.stdout == expected + "\n"
