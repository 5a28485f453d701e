"""``mlsysim check`` end to end on tiny fixture books: exit codes, messages, goldens, cache.

The command is driven through ``invariants.cli.register`` on a local typer app (the ``mlsysim``
app also loads other packages' commands) and once through ``python -m invariants``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from invariants.cli import register

BOOKS = Path(__file__).parent / "fixtures" / "books"
pytestmark = pytest.mark.slow


def _app() -> typer.Typer:
    app = typer.Typer()
    register(app)

    @app.callback()
    def _root() -> None:
        """A second entry so ``check`` stays a subcommand, as in the mlsysim CLI."""

    return app


def invoke(*args: str | Path):
    result = CliRunner().invoke(_app(), ["check", *map(str, args)], catch_exceptions=False)
    return result


def _copy(name: str, dest: Path) -> Path:
    return Path(shutil.copytree(BOOKS / name, dest / name))


def _report(book: Path) -> dict:
    return json.loads((book / ".invariants" / "report.json").read_text())


def _chapter(report: dict, path: str) -> dict:
    return next(c for c in report["chapters"] if c["path"] == path)


def _snapshot(folder: Path) -> dict[str, bytes]:
    """Every file's bytes (the golden store's lock file aside)."""
    files = (p for p in folder.rglob("*") if p.is_file() and p.name != ".golden.lock")
    return {str(p.relative_to(folder)): p.read_bytes() for p in files}


def test_author_workflow_new_update_cached_then_a_shifted_constant(tmp_path):
    book = _copy("tiny", tmp_path)
    first = invoke(book)
    assert first.exit_code == 1  # strict: values new since the (absent) snapshot fail
    assert _report(book)["summary"]["new"] == 3

    updated = invoke(book, "--update")
    assert updated.exit_code == 0, updated.output
    assert "new inline 'peak': ∅ → 989.4" in updated.output
    golden = (book / "golden" / "ridge.yml").read_text()
    assert "  peak:\n    magnitude: 989.4\n    text: '989.4'\n    unit: null\n" in golden

    warm = invoke(book)
    assert warm.exit_code == 0, warm.output
    assert " cached chapters/ridge.qmd" in warm.output  # the per-chapter progress line
    report = _report(book)
    assert report["summary"]["cached"] == 1 and report["ok"] is True
    assert _chapter(report, "chapters/ridge.qmd")["cached"] is True

    # A constant in a module the chapter imports moves: the cache must not hide it.
    hw = book / "chapters" / "hw.py"
    hw.write_text(hw.read_text().replace("3.35", "3.00"))
    shifted = invoke(book)
    assert shifted.exit_code == 1
    ridge = _chapter(_report(book), "chapters/ridge.qmd")
    assert ridge["cached"] is False and ridge["status"] == "failed"
    by_key = {g["key"]: g for g in ridge["golden"]}
    prose = by_key['Markdown(f"{ridge:.0f} FLOP/byte", ridge, "flop / byte")']
    assert (prose["status"], prose["old"], prose["new"], prose["line"]) == (
        "shifted",
        "**295 FLOP/byte**",
        "**330 FLOP/byte**",
        24,
    )
    assert prose["rel_change"] == pytest.approx(3.35 / 3.00 - 1)
    assert by_key["ridge"]["status"] == "out_of_tolerance"
    assert by_key["ridge"]["line"] == 21


def test_a_moved_book_leaves_no_stale_cache_entries(tmp_path):
    book = _copy("tiny", tmp_path)
    assert invoke(book, "--update").exit_code == 0
    cache = book / ".invariants" / "cache"
    before = sorted(p.name for p in cache.glob("*.json"))
    moved = Path(shutil.move(book, tmp_path / "moved"))  # every entry now names a gone path

    assert invoke(moved).exit_code == 0
    after = sorted(p.name for p in (moved / ".invariants" / "cache").glob("*.json"))
    assert len(after) == len(before) == 2  # index.qmd and ridge.qmd: one entry each, not two
    assert set(after).isdisjoint(before)  # re-keyed on the new location; old entries pruned


@pytest.fixture(scope="module")
def bad_book(tmp_path_factory):
    """The bad-input book, checked once (no --update) with a 5 s cell timeout: the spinning
    chapter needs one, and every other cell takes ~0.1 s, so 50x headroom on a busy box."""
    book = _copy("bad", tmp_path_factory.mktemp("bad"))
    goldens = _snapshot(book / "golden")
    result = invoke(book, "--timeout", "5", "--jobs", "2")
    return book, result, _report(book), goldens


def _error(report: dict, path: str) -> dict:
    (error,) = _chapter(report, path)["errors"]
    return error


def test_bad_book_exits_2_and_keeps_every_golden_byte(bad_book):
    book, result, report, goldens = bad_book
    assert result.exit_code == 2
    assert report["exit_code"] == 2
    assert _snapshot(book / "golden") == goldens


def test_bad_input_syntax_error(bad_book):
    error = _error(bad_book[2], "syntax.qmd")
    assert (error["kind"], error["line"], error["cell"]) == ("exception", 11, "broken")
    assert error["message"] == "SyntaxError: incomplete input in broken (syntax.qmd:11)"


def test_bad_input_infinite_loop_times_out(bad_book):
    error = _error(bad_book[2], "loop.qmd")
    assert (error["kind"], error["line"]) == ("timeout", 5)
    assert "exceeded the 5 s timeout" in error["message"]


def test_bad_input_os_exit_kills_the_kernel(bad_book):
    error = _error(bad_book[2], "exits.qmd")
    assert (error["kind"], error["cell"]) == ("kernel_died", "suicide")
    assert error["message"] == "the kernel died while running suicide (exits.qmd:9)"


def test_bad_input_unclosed_fence(bad_book):
    error = _error(bad_book[2], "unclosed.qmd")
    assert (error["kind"], error["line"]) == ("reader", 3)
    assert "unclosed.qmd:3:" in error["message"]


def test_bad_input_garbage_golden_yaml_names_the_file(bad_book):
    book, _, report, _ = bad_book
    error = _error(report, "garbage.qmd")
    assert error["kind"] == "golden"
    assert error["message"].startswith(f"{book / 'golden' / 'garbage.yml'}:2: not valid YAML: ")


def test_bad_input_golden_unit_that_does_not_convert(bad_book):
    chapter = _chapter(bad_book[2], "units.qmd")
    assert chapter["status"] == "failed", chapter["errors"]
    (finding,) = chapter["golden"]
    assert (finding["key"], finding["status"], finding["line"]) == ("ridge", "unit_error", 6)


def test_bad_input_unit_error_alone_exits_1(tmp_path):
    book = _copy("bad", tmp_path)
    result = invoke(book / "units.qmd")
    assert result.exit_code == 1, result.output


def test_update_never_rewrites_a_broken_or_unreadable_golden(tmp_path):
    book = _copy("bad", tmp_path)
    before = _snapshot(book / "golden")
    broken = ("syntax", "garbage", "exits", "loop", "unclosed")
    result = invoke(*(book / f"{name}.qmd" for name in broken), "--update", "--timeout", "2")
    assert result.exit_code == 2
    statuses = [c["status"] for c in _report(book)["chapters"]]
    assert statuses == ["error"] * len(broken)
    assert _snapshot(book / "golden") == before


def test_two_chapters_that_would_share_a_golden_file_are_errors_not_run(tmp_path):
    for part in ("part1", "part2"):
        (tmp_path / part).mkdir()
        (tmp_path / part / "intro.qmd").write_text("It is `{python} 6 * 7`.\n")
        (tmp_path / part / "index.qmd").write_text("# No code: no golden, no clash\n")
    out = tmp_path.parent / f"{tmp_path.name}-out"
    result = invoke(tmp_path, "--json", out / "r.json", "--junit", out / "r.xml")
    assert result.exit_code == 2
    report = json.loads((out / "r.json").read_text())
    assert not (tmp_path / ".invariants" / "report.json").exists()  # --json replaces it
    assert (out / "r.xml").read_text().startswith("<?xml")
    assert [c["status"] for c in report["chapters"]] == ["passed", "error", "passed", "error"]
    assert _error(report, "part2/intro.qmd")["message"] == (
        "part2/intro.qmd and part1/intro.qmd would share the golden file golden/intro.yml; "
        "rename one of them"
    )
    assert not (tmp_path / "golden").exists()


def test_bad_input_nonexistent_path(tmp_path):
    result = invoke(tmp_path / "nope")
    assert result.exit_code == 2
    assert "path does not exist" in result.output
    assert list(tmp_path.iterdir()) == []


def test_a_mistyped_chapter_gets_the_closest_name_on_one_line(tmp_path):
    book = _copy("tiny", tmp_path)
    typo = book / "chapters" / "ridg.qmd"
    result = invoke(typo)
    assert result.exit_code == 2
    assert result.output == (
        f"error: path does not exist: {typo}; did you mean {book}/chapters/ridge.qmd?\n"
    )


def test_bad_input_read_only_golden_folder_under_update(tmp_path, monkeypatch):
    book = _copy("bad", tmp_path)
    golden = book / "golden"
    before = _snapshot(golden)
    real_mkstemp = tempfile.mkstemp

    def refuse_in_golden(*args, **kwargs):  # root ignores chmod: refuse as the OS would
        if Path(kwargs.get("dir", "")).resolve() == golden.resolve():
            raise PermissionError(13, "Permission denied", str(golden))
        return real_mkstemp(*args, **kwargs)

    monkeypatch.setattr(tempfile, "mkstemp", refuse_in_golden)
    golden.chmod(0o555)
    try:
        result = invoke(book / "units.qmd", "--update")
    finally:
        golden.chmod(0o755)
    assert result.exit_code == 2
    error = _error(_report(book), "units.qmd")
    assert error["kind"] == "golden"
    assert error["message"] == (
        f"{golden / 'units.yml'}: cannot write the golden file: Permission denied"
    )
    assert _snapshot(golden) == before


def test_two_checks_writing_goldens_concurrently(tmp_path):
    book = _copy("tiny", tmp_path)
    shutil.copy(book / "chapters" / "ridge.qmd", book / "chapters" / "ridge2.qmd")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])}
    cmd = [sys.executable, "-m", "invariants", "--update", "--jobs", "1", "--no-cache"]
    procs = [
        subprocess.Popen([*cmd, str(book / "chapters" / name)], env=env, cwd=tmp_path,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        for name in ("ridge.qmd", "ridge2.qmd")
    ]  # fmt: skip
    outputs = [p.communicate(timeout=120)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    one, two = ((book / "golden" / n).read_text() for n in ("ridge.yml", "ridge2.yml"))
    assert one == two and "text: '989.4'" in one
    left = sorted(p.name for p in (book / "golden").iterdir() if p.name != ".golden.lock")
    assert left == ["ridge.yml", "ridge2.yml"]  # no temp file left behind


def test_a_chapter_outside_the_book_is_checked_but_written_only_inside(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    for name in ("ridge.qmd", "shim.py", "hw.py", "peak.txt"):
        shutil.copy(BOOKS / "tiny" / "chapters" / name, outside / name)
    book = tmp_path / "book"
    (book / "chapters").mkdir(parents=True)
    (book / "_quarto.yml").write_text(
        "book:\n  chapters:\n    - ../outside/ridge.qmd\n    - chapters/linked.qmd\n"
    )
    (outside / "plain.qmd").write_text(
        "```{python}\nanswer = 6 * 7\n```\n\nIt is `{python} answer`.\n"
    )
    os.symlink(outside / "plain.qmd", book / "chapters" / "linked.qmd")
    before = _snapshot(outside)
    result = invoke(book, "--update")
    assert result.exit_code == 0, result.output
    assert _snapshot(outside) == before  # nothing written next to the real chapter
    assert sorted(p.name for p in (book / "golden").glob("*.yml")) == ["linked.yml", "ridge.yml"]
    assert "text: '42'" in (book / "golden" / "linked.yml").read_text()
    paths = [c["path"] for c in _report(book)["chapters"]]
    assert paths == ["../outside/ridge.qmd", "chapters/linked.qmd"]


def test_python_dash_m_invariants_reports_a_usage_error(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "invariants", "check", "missing.qmd"],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "path does not exist: missing.qmd" in result.stdout
