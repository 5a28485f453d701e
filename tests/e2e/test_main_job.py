"""The README's main job: ``mlsysim check`` with no arguments, from outside any Quarto project,
checks the bundled sample book and exits 0; and a wheel carries that book where the checker
finds it."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import yaml
from e2e_support import BOOK, read_report, run_check

pytestmark = pytest.mark.slow

BUNDLED = "mlsysim/_bundled/book_fixtures"


def listed_chapters() -> list[str]:
    """The chapters the sample book's _quarto.yml lists (the preface index.qmd included)."""
    config = yaml.safe_load((BOOK / "_quarto.yml").read_text(encoding="utf-8"))
    return list(config["book"]["chapters"])


def book_files() -> list[str]:
    """The sample book as the checker reads it: config, chapters and one golden per chapter."""
    chapters = listed_chapters()
    return ["_quarto.yml", *chapters, *(f"golden/{Path(c).stem}.yml" for c in chapters)]


def test_sample_book_lists_nine_chapters_and_a_golden_for_each():
    chapters = [c for c in listed_chapters() if c.startswith("chapters/")]
    assert len(chapters) == 9
    assert [f for f in book_files() if not (BOOK / f).is_file()] == []


def test_main_job_checks_the_bundled_book_from_outside_any_project(tmp_path):
    assert not any((folder / "_quarto.yml").exists() for folder in (tmp_path, *tmp_path.parents))

    result = run_check([], cwd=tmp_path)

    assert result.returncode == 0, result.stdout + result.stderr
    report = read_report(BOOK / ".invariants" / "report.json")
    assert Path(report["book"]) == BOOK.resolve()
    assert (report["ok"], report["exit_code"]) == (True, 0)
    summary = report["summary"]
    assert summary["chapters"] == len(listed_chapters())
    failures = {k: summary[k] for k in ("checks_failed", "shifts", "new", "missing", "errors")}
    assert failures == dict.fromkeys(failures, 0)
    assert summary["checks_passed"] >= 5 * 9


def build_wheel(out: Path) -> Path:
    """``pip wheel`` of this checkout (reusing the installed hatchling when there is one)."""
    command = [sys.executable, "-m", "pip", "wheel", str(BOOK.parent), "--no-deps", "-q"]
    if importlib.util.find_spec("hatchling") is not None:
        command.append("--no-build-isolation")
    subprocess.run([*command, "-w", str(out)], check=True, capture_output=True, timeout=300)
    [wheel] = out.glob("mlsysim-*.whl")
    return wheel


def test_an_installed_wheel_finds_its_bundled_sample_book(tmp_path):
    wheel = build_wheel(tmp_path / "dist")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert [f for f in book_files() if f"{BUNDLED}/{f}" not in names] == []
    # A working tree's result cache, report and lock files never ship.
    assert [n for n in names if "/.invariants/" in n or n.endswith(".lock")] == []

    site = tmp_path / "site"
    install = [sys.executable, "-m", "pip", "install", "--no-deps", "--no-index", "-q"]
    subprocess.run(
        [*install, "--target", str(site), str(wheel)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    probe = (
        "import importlib.util; from invariants.book import find_book; book = find_book([]); "
        "print(importlib.util.find_spec('mlsysim').origin); print(book.root); "
        "print(len(book.chapters))"
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    result = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=elsewhere,
        env={**os.environ, "PYTHONPATH": str(site)},
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    origin, root, count = result.stdout.split("\n")[:3]
    assert Path(origin).is_relative_to(site)
    assert Path(root) == (site / BUNDLED).resolve()
    assert int(count) == len(listed_chapters())
