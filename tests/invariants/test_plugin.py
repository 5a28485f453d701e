"""The pytest plugin: chapters as items, failure sections at .qmd lines, pytest-regressions flags.

Most tests swap the Jupyter runner for an in-process one (``exec`` the cells, ``eval`` the inline
expressions) to pin the plugin's own logic quickly; the last runs real kernels under xdist.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest
import yaml  # noqa: F401  # before pytester's sys.modules snapshot: C loader can't re-import

from invariants.model import ChapterRun, CheckOutcome, InlineValue
from invariants.protocol import CheckRecord, PublishedValue

pytest_plugins = ["pytester"]

FIXTURE_BOOK = Path(__file__).parent / "fixtures" / "reader" / "plugin_book"
ROOFLINE_GOLDEN = """\
golden: {}
inline:
  ridge_str:
    magnitude: null
    text: 295 FLOP/byte
    unit: null
"""


def run_in_process(chapter, options):
    """The runner's contract without a kernel: cells in order, then each inline expression."""
    namespace: dict = {}
    cwd = str(chapter.path.parent)
    sys.path.insert(0, cwd)
    try:
        for cell in chapter.cells:
            if cell.evaluate:
                exec(compile(cell.source, str(chapter.path), "exec"), namespace)
        values = []
        for expr in chapter.inline:
            value = eval(expr.code, namespace)
            number = float(value) if isinstance(value, (int, float)) else None
            values.append(InlineValue(expr=expr, text=str(value), magnitude=number))
    finally:
        sys.path.remove(cwd)
        sys.modules.pop("constants", None)
    return ChapterRun(chapter=chapter.path, cells_run=len(chapter.cells), inline=tuple(values))


@pytest.fixture
def book(pytester, monkeypatch):
    monkeypatch.delenv("CI", raising=False)  # strict mode follows $CI; each test sets it itself
    target = pytester.path / "book"
    shutil.copytree(FIXTURE_BOOK, target)
    return target


@pytest.fixture
def fake_runner(monkeypatch):
    monkeypatch.setattr("invariants.runner.run_chapter", run_in_process)


def set_peak(book: Path, peak: int) -> None:
    constants = book / "chapters" / "constants.py"
    constants.write_text(
        constants.read_text().replace("PEAK_TFLOPS = 989", f"PEAK_TFLOPS = {peak}")
    )


def record_goldens(pytester, book):
    pytester.runpytest("--invariants", str(book), "--regen-all").assert_outcomes(passed=2)


def test_book_chapters_are_items_in_quarto_order(pytester, book):
    result = pytester.runpytest("--invariants", str(book), "--collect-only", "-q")
    assert result.outlines[:2] == [
        "book/index.qmd::index",
        "book/chapters/roofline.qmd::roofline",
    ]
    assert result.ret == 0


def test_no_book_no_items_and_a_bad_book_is_a_usage_error(pytester, book):
    pytester.makepyfile(test_one="def test_one():\n    pass\n")
    assert pytester.runpytest("--collect-only", "-q").outlines[0] == "test_one.py::test_one"
    result = pytester.runpytest("--invariants", str(book / "nope"))
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: --invariants: path does not exist: */book/nope"])
    result = pytester.runpytest("--invariants", str(book / "_quarto.yml"))
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: --invariants: not a .qmd chapter or a book folder: *"])


def test_one_chapter_can_be_given_instead_of_a_book(pytester, book):
    chapter = book / "chapters" / "roofline.qmd"
    result = pytester.runpytest("--invariants", str(chapter), "--collect-only", "-q")
    assert result.outlines[0] == "book/chapters/roofline.qmd::roofline"
    assert result.outlines[1] == ""


def test_first_run_creates_goldens_and_fails_as_pytest_regressions(pytester, book, fake_runner):
    result = pytester.runpytest("--invariants", str(book))
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines([
        "File not found in data directory, created:",
        f"- {book / 'golden' / 'roofline.yml'}",
        "    new inline 'ridge_str': ∅ → 295 FLOP/byte",
    ])  # fmt: skip
    assert (book / "golden" / "roofline.yml").read_text() == ROOFLINE_GOLDEN
    pytester.runpytest("--invariants", str(book)).assert_outcomes(passed=2)


def test_a_shift_fails_with_its_prose_line_and_keeps_the_golden(pytester, book, fake_runner):
    record_goldens(pytester, book)
    set_peak(book, 1979)
    result = pytester.runpytest("--invariants", str(book))
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines([
        "chapters/roofline.qmd:14: shifted: inline `{python} ridge_str`",
        "    published text changed: 295 FLOP/byte → 591 FLOP/byte",
        "FAILED book/chapters/roofline.qmd::roofline - chapters/roofline.qmd:14: shift*",
    ])  # fmt: skip
    assert (book / "golden" / "roofline.yml").read_text() == ROOFLINE_GOLDEN


def test_a_shift_writes_the_obtained_snapshot_outside_the_book(pytester, book, fake_runner):
    record_goldens(pytester, book)
    set_peak(book, 1979)
    result = pytester.runpytest("--invariants", str(book))
    result.assert_outcomes(passed=1, failed=1)
    golden = book / "golden" / "roofline.yml"
    result.stdout.fnmatch_lines([f"Obtained data (diff it with {golden}):", "- *"])
    line = result.stdout.lines[
        result.stdout.lines.index(f"Obtained data (diff it with {golden}):") + 1
    ]
    obtained = Path(line[2:])
    assert obtained.name == "roofline.obtained.yml"
    assert book not in obtained.parents  # pytest's temporary folder, as pytest-regressions' datadir
    assert obtained.read_text() == ROOFLINE_GOLDEN.replace("295 FLOP/byte", "591 FLOP/byte")
    assert golden.read_text() == ROOFLINE_GOLDEN
    assert sorted(p.name for p in golden.parent.iterdir()) == ["index.yml", "roofline.yml"]


def test_force_regen_rewrites_a_differing_golden_and_fails(pytester, book, fake_runner):
    record_goldens(pytester, book)
    set_peak(book, 1979)
    result = pytester.runpytest("--invariants", str(book), "--force-regen")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines([
        "Files differ and --force-regen set, regenerating file at:",
        f"- {book / 'golden' / 'roofline.yml'}",
        "    updated inline 'ridge_str': 295 FLOP/byte → 591 FLOP/byte",
    ])  # fmt: skip
    assert "591 FLOP/byte" in (book / "golden" / "roofline.yml").read_text()
    pytester.runpytest("--invariants", str(book)).assert_outcomes(passed=2)


def test_regen_all_rewrites_and_passes(pytester, book, fake_runner):
    record_goldens(pytester, book)
    set_peak(book, 1979)
    pytester.runpytest("--invariants", str(book), "--regen-all").assert_outcomes(passed=2)
    assert "591 FLOP/byte" in (book / "golden" / "roofline.yml").read_text()


def test_new_values_fail_only_under_strict(pytester, book, fake_runner):
    record_goldens(pytester, book)
    index = book / "index.qmd"
    index.write_text(index.read_text() + "\nTwice: `{python} chapters * 2`.\n")
    pytester.runpytest("--invariants", str(book)).assert_outcomes(passed=2)
    result = pytester.runpytest("--invariants", str(book), "--invariants-strict")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["index.qmd:12: new: inline `{python} chapters * 2`"])


def test_the_ini_option_overrides_ci_and_a_typo_in_it_is_a_usage_error(
    pytester, book, fake_runner, monkeypatch
):
    record_goldens(pytester, book)
    index = book / "index.qmd"
    index.write_text(index.read_text() + "\nTwice: `{python} chapters * 2`.\n")
    monkeypatch.setenv("CI", "true")
    off = pytester.runpytest("--invariants", str(book), "-o", "invariants_strict=false")
    off.assert_outcomes(passed=2)
    typo = pytester.runpytest("--invariants", str(book), "-o", "invariants_strict=ture")
    assert typo.ret == pytest.ExitCode.USAGE_ERROR
    typo.stderr.fnmatch_lines(
        ["*invariants_strict = 'ture': use true or false, or leave it unset to follow $CI*"]
    )


@pytest.mark.parametrize(("ci", "failed"), [("true", 1), ("1", 1), ("false", 0), ("0", 0), ("", 0)])
def test_the_ci_variable_turns_strict_mode_on(pytester, book, fake_runner, monkeypatch, ci, failed):
    record_goldens(pytester, book)
    index = book / "index.qmd"
    index.write_text(index.read_text() + "\nTwice: `{python} chapters * 2`.\n")
    monkeypatch.setenv("CI", ci)
    result = pytester.runpytest("--invariants", str(book))
    result.assert_outcomes(passed=2 - failed, failed=failed)


def test_a_failed_check_is_a_section_with_its_values(pytester, book, fake_runner, monkeypatch):
    record_goldens(pytester, book)
    ridge = PublishedValue(147.6, "flop / byte", "148 FLOP/byte")
    record = CheckRecord(
        kind="check", message="the ridge point sits above 200 FLOP/byte", passed=False,
        file="cell", line=4, values={"ridge": ridge},
    )  # fmt: skip

    def failing(chapter, options):
        run = run_in_process(chapter, options)
        if chapter.path.stem != "roofline":
            return run
        return ChapterRun(chapter=run.chapter, cells_run=run.cells_run, inline=run.inline,
                          checks=(CheckOutcome(record=record, line=9, cell="ridge"),))  # fmt: skip

    monkeypatch.setattr("invariants.runner.run_chapter", failing)
    result = pytester.runpytest("--invariants", str(book))
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines([
        "chapters/roofline.qmd:9: check failed: the ridge point sits above 200 FLOP/byte",
        "    ridge = 148 FLOP/byte (147.6 flop / byte)",
        "    in cell ridge",
    ])  # fmt: skip


def test_corrupt_golden_is_an_error_naming_the_file(pytester, book, fake_runner):
    record_goldens(pytester, book)
    golden = book / "golden" / "index.yml"
    golden.write_text("inline: [oops\n")
    result = pytester.runpytest("--invariants", str(book), "--force-regen")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines([f"index.qmd: golden: {golden}:2: not valid YAML: *"])
    assert golden.read_text() == "inline: [oops\n"


def test_reader_error_fails_the_item_at_the_fence_line(pytester, book, fake_runner):
    record_goldens(pytester, book)
    (book / "index.qmd").write_text("# Preface\n\n```{python}\nx = 1\n")
    result = pytester.runpytest("--invariants", str(book))
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["index.qmd:3: reader: *index.qmd:3: unclosed ```{python} fence*"])


def test_qmd_files_are_collected_when_the_ini_option_is_on(pytester, book, fake_runner):
    chapter = str(book / "chapters" / "roofline.qmd")
    result = pytester.runpytest(chapter, "--collect-only", "-q")
    assert result.ret == pytest.ExitCode.USAGE_ERROR  # off by default: pytest finds no item
    result.stderr.fnmatch_lines(["ERROR: not found: */book/chapters/roofline.qmd"])
    pytester.makeini("[pytest]\ninvariants_collect_qmd = true\n")
    result = pytester.runpytest(str(book), "--collect-only", "-q")
    assert result.outlines[:2] == [  # pytest's own directory order here
        "book/chapters/roofline.qmd::roofline",
        "book/index.qmd::index",
    ]
    result = pytester.runpytest(chapter)
    result.assert_outcomes(failed=1)  # no golden yet: created, as pytest-regressions does
    assert (book / "golden" / "roofline.yml").read_text() == ROOFLINE_GOLDEN


def test_collected_chapters_sharing_a_stem_are_a_collection_error(pytester, book):
    (book / "appendix").mkdir()
    shutil.copy(book / "index.qmd", book / "appendix" / "index.qmd")
    pytester.makeini("[pytest]\ninvariants_collect_qmd = true\n")
    result = pytester.runpytest(str(book), "--collect-only", "-q")
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines([
        "*/book/appendix/index.qmd and */book/index.qmd share the name 'index': their golden files"
        " would collide in */book/golden; rename one",
    ])  # fmt: skip


@pytest.mark.slow
def test_real_kernels_under_xdist_catch_a_shifted_constant(pytester, book):
    result = pytester.runpytest_subprocess("--invariants", str(book), "-n", "2", "--regen-all")
    result.assert_outcomes(passed=2)
    assert (book / "golden" / "roofline.yml").read_text() == ROOFLINE_GOLDEN
    set_peak(book, 1979)
    result = pytester.runpytest_subprocess("--invariants", str(book), "-n", "2")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines([
        "*chapters/roofline.qmd:14: shifted: inline `{python} ridge_str`",
        "*published text changed: 295 FLOP/byte → 591 FLOP/byte",
    ])  # fmt: skip
    assert sorted(p.name for p in (book / "golden").iterdir()) == ["index.yml", "roofline.yml"]
