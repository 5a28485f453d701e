"""``mlsysim quarto pre-render``: what Quarto runs before a render. It checks the whole book, or
only the ``.qmd`` chapters of a partial render, and exits with the check's code (non-zero aborts
``quarto render``). The slow tests run the real ``mlsysim check`` on ``fixtures/book`` (copied to a
temporary folder) and then the Lua filter on the report it wrote."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from mlsysim.quarto_install import chapters_to_check, register

FIXTURE_BOOK = Path(__file__).parent / "fixtures" / "book"
FILTER = (
    Path(__file__).resolve().parents[2] / "quarto_ext" / "_extensions" / "mlsysim" / "mlsysim.lua"
)
QUARTO_ENV = (
    "QUARTO_PROJECT_RENDER_ALL",
    "QUARTO_PROJECT_INPUT_FILES",
    "QUARTO_USE_FILE_FOR_PROJECT_INPUT_FILES",
    "MLSYSIM_REVIEW",
)


def pre_render(book: Path, **env: str):
    app = typer.Typer()
    register(app)
    environment: dict[str, str | None] = dict.fromkeys(QUARTO_ENV)
    environment.update(env)
    return CliRunner().invoke(app, ["quarto", "pre-render", str(book)], env=environment)


# --- which chapters (no kernels) -------------------------------------------------------------


def test_full_render_checks_the_whole_book(tmp_path: Path) -> None:
    env = {"QUARTO_PROJECT_RENDER_ALL": "1", "QUARTO_PROJECT_INPUT_FILES": "chapters/a.qmd"}
    assert chapters_to_check(tmp_path, env) is None


def test_outside_quarto_the_whole_book_is_checked(tmp_path: Path) -> None:
    assert chapters_to_check(tmp_path, {}) is None


def test_partial_render_checks_only_its_qmd_chapters(tmp_path: Path) -> None:
    listing = "chapters/b.qmd\nindex.md\nnotebooks/c.ipynb\n\nchapters/a.QMD\nchapters/b.qmd\n"
    assert chapters_to_check(tmp_path, {"QUARTO_PROJECT_INPUT_FILES": listing}) == [
        tmp_path / "chapters" / "b.qmd",
        tmp_path / "chapters" / "a.QMD",
    ]


def test_partial_render_list_can_come_from_a_file(tmp_path: Path) -> None:
    (tmp_path / "inputs.txt").write_text("chapters/a.qmd\nabout.md\n", encoding="utf-8")
    env = {"QUARTO_USE_FILE_FOR_PROJECT_INPUT_FILES": "inputs.txt"}
    assert chapters_to_check(tmp_path, env) == [tmp_path / "chapters" / "a.qmd"]


def test_partial_render_of_no_chapter_checks_nothing(tmp_path: Path) -> None:
    result = pre_render(tmp_path, QUARTO_PROJECT_INPUT_FILES="index.md\nabout.ipynb")
    assert result.exit_code == 0
    assert result.output == (
        "mlsysim: no .qmd chapter among the files Quarto is rendering; nothing to check\n"
    )
    assert not (tmp_path / ".invariants").exists()


# --- the real check on the fixture book ----------------------------------------------------------


@pytest.fixture
def book(tmp_path: Path) -> Path:
    root = tmp_path / "book"
    shutil.copytree(FIXTURE_BOOK, root, ignore=shutil.ignore_patterns(".invariants"))
    return root


def read_report(book: Path) -> dict:
    return json.loads((book / ".invariants" / "report.json").read_text(encoding="utf-8"))


def break_ridge(book: Path) -> None:
    """A faster memory makes the ridge 82 FLOP/byte: the check fails and the number shifts."""
    chapter = book / "chapters" / "ridge.qmd"
    text = chapter.read_text(encoding="utf-8")
    chapter.write_text(text.replace("bandwidth_tbs = 3.35", "bandwidth_tbs = 12.0"), "utf-8")


@pytest.mark.slow
def test_full_render_of_the_fixture_book_passes(book: Path) -> None:
    result = pre_render(book, QUARTO_PROJECT_RENDER_ALL="1")
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"mlsysim: checking the book at {book}\n")
    report = read_report(book)
    assert report["ok"] is True
    assert [(c["path"], c["status"]) for c in report["chapters"]] == [
        ("index.qmd", "passed"),
        ("chapters/ridge.qmd", "passed"),
        ("chapters/energy.qmd", "passed"),
    ]


@pytest.mark.slow
def test_partial_render_checks_only_the_rendered_chapter(book: Path) -> None:
    break_ridge(book)  # not rendered, so not checked
    result = pre_render(book, QUARTO_PROJECT_INPUT_FILES="chapters/energy.qmd\nreferences.md")
    assert result.exit_code == 0, result.output
    assert result.output.startswith(
        "mlsysim: checking the 1 chapter(s) Quarto is rendering: chapters/energy.qmd\n"
    )
    assert [c["path"] for c in read_report(book)["chapters"]] == ["chapters/energy.qmd"]


@pytest.mark.slow
def test_broken_chapter_aborts_the_render_and_the_filter_reports_it(book: Path) -> None:
    break_ridge(book)
    result = pre_render(book, QUARTO_PROJECT_INPUT_FILES="chapters/ridge.qmd")
    assert result.exit_code == 1, result.output
    (chapter,) = read_report(book)["chapters"]
    assert chapter["status"] == "failed"
    assert [(c["message"], c["passed"]) for c in chapter["checks"]] == [
        ("the H100 is memory-bound below 100 FLOP/byte", False)
    ]
    (shift,) = [g for g in chapter["golden"] if g["status"] != "ok"]
    assert (shift["kind"], shift["status"], shift["old"], shift["new"], shift["line"]) == (
        "inline",
        "shifted",
        "295 FLOP/byte",
        "82 FLOP/byte",
        16,
    )
    # A render that skipped the pre-render (e.g. quarto preview) is stopped by the filter.
    executed = book / "chapters" / "ridge.md"
    executed.write_text(
        "The H100's ridge point is 82 FLOP/byte: a kernel doing less work per byte waits on"
        " memory.\n",
        encoding="utf-8",
    )
    import pypandoc

    done = subprocess.run(
        [pypandoc.get_pandoc_path(), "chapters/ridge.md", "-t", "json", "-L", str(FILTER)],
        cwd=book,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=60,
    )
    assert done.returncode == 83
    assert (
        "mlsysim: chapters/ridge.qmd breaks its invariants (status failed), and the pre-render"
        " check did not stop this build:\n"
        "  chapters/ridge.qmd:12: the H100 is memory-bound below 100 FLOP/byte"
        f" (ridge = {chapter['checks'][0]['values']['ridge']['text']})\n"
        f"  chapters/ridge.qmd:16: ridge_str: {shift['message']}\n"
    ) in done.stderr


@pytest.mark.slow
def test_review_build_renders_anyway(book: Path) -> None:
    break_ridge(book)
    result = pre_render(book, QUARTO_PROJECT_INPUT_FILES="chapters/ridge.qmd", MLSYSIM_REVIEW="1")
    assert result.exit_code == 0, result.output
    assert result.output.endswith(
        "mlsysim: review build (MLSYSIM_REVIEW): rendering anyway; the chapters show what is"
        " broken\n"
    )
    (chapter,) = read_report(book)["chapters"]
    assert chapter["status"] == "failed"
    assert chapter["publications"] == [{
        "key": "ridge_str", "text": "82 FLOP/byte", "line": 16, "column": 27,
        "before": ["H100", "s", "ridge", "point", "is"],
        "after": ["a", "kernel", "doing", "less", "work"],
    }]  # fmt: skip
    # The filter wraps the value where the check says it was published, with its status.
    (book / "chapters" / "ridge.md").write_text(
        "The H100's ridge point is 82 FLOP/byte: a kernel doing less work per byte waits on"
        " memory.\n",
        encoding="utf-8",
    )
    import pypandoc

    done = subprocess.run(
        [pypandoc.get_pandoc_path(), "chapters/ridge.md", "-t", "markdown", "--wrap=none",
         "-L", str(FILTER)],
        cwd=book, env={**os.environ, "MLSYSIM_REVIEW": "1"},
        capture_output=True, text=True, encoding="utf-8", timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert done.stdout.split("\n\n")[-1] == (
        'The H100\'s ridge point is [82 FLOP/byte]{.mlsysim-value data-status="shifted"'
        ' data-key="ridge_str" title="mlsysim: shifted, was 295 FLOP/byte, now 82 FLOP/byte"}:'
        " a kernel doing less work per byte waits on memory.\n"
    )


@pytest.mark.slow
def test_a_listed_chapter_that_does_not_exist_is_a_usage_error(book: Path) -> None:
    result = pre_render(book, QUARTO_PROJECT_INPUT_FILES="chapters/gone.qmd")
    assert result.exit_code == 2, result.output
    assert "gone.qmd" in result.output


@pytest.mark.slow
def test_the_manifest_command_run_as_quarto_runs_it(book: Path) -> None:
    """The exact `pre-render` entry of _extension.yml, split into arguments and run from the
    project root without a shell (Quarto's runScripts), through the installed console script."""
    import os
    import shlex
    import sys

    import yaml

    manifest = yaml.safe_load((FILTER.parent / "_extension.yml").read_text(encoding="utf-8"))
    (command,) = manifest["contributes"]["metadata"]["project"]["pre-render"]
    argv = shlex.split(command)
    argv[0] = str(Path(sys.executable).parent / argv[0])  # the venv's `mlsysim`
    break_ridge(book)
    env = {k: v for k, v in os.environ.items() if k not in QUARTO_ENV}
    env["QUARTO_PROJECT_INPUT_FILES"] = "chapters/ridge.qmd"
    done = subprocess.run(
        argv, cwd=book, env=env, capture_output=True, text=True, encoding="utf-8", timeout=300
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert done.stdout.startswith(
        "mlsysim: checking the 1 chapter(s) Quarto is rendering: chapters/ridge.qmd\n"
    )
    assert "295 FLOP/byte → 82 FLOP/byte" in done.stdout
