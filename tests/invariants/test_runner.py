"""The runner executes a chapter as Quarto would and places what it published at .qmd lines.

Each fixture chapter runs once per module (kernels are expensive); the tests read its run.
"""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path

import pytest

from invariants import runner
from invariants.kernels import start_kernel
from invariants.qmd import read_qmd
from invariants.runner import RunOptions, run_chapter, run_chapter_async, strip_ansi

BOOKS = Path(__file__).parent / "fixtures" / "books"
TINY = BOOKS / "tiny" / "chapters"
BAD = BOOKS / "bad"
MODULE = BOOKS / "module"

pytestmark = pytest.mark.slow


def _run(path: Path, **options):
    return run_chapter(read_qmd(path), RunOptions(**options))


@pytest.fixture(scope="module")
def ridge():
    return _run(TINY / "ridge.qmd", watch_roots=(BOOKS / "tiny",))


def test_checks_land_on_their_qmd_lines(ridge):
    placed = [(c.line, c.cell, c.record.kind, c.record.message) for c in ridge.checks]
    assert placed[:3] == [
        (20, "ridge", "check", "the ridge is above 100 FLOP/byte"),
        (21, "ridge", "golden", "ridge"),
        # called from `uses` but written in the `helpers` cell: the line of the check() call
        (34, "helpers", "check", "below 1000"),
    ]


def test_a_check_in_a_module_from_a_library_without_the_cell_frame_lands_on_its_cell(ridge):
    # shim.py speaks protocol 1 without cell_file/cell_line: the call site (line 40) is
    # unknown, so the record lands on the first line of the cell whose output carried it
    outcome = ridge.checks[3]
    assert (outcome.line, outcome.cell, str(outcome.source)) == (38, "uses", "shim.py:58")
    assert Path(outcome.record.file) == (TINY / "shim.py").resolve()
    assert outcome.record.line == 58


def test_a_check_written_in_a_helper_module_lands_on_the_chapters_call_line():
    """Regression (issue 8): it was placed at no line (``chapters/a.qmd: check failed``)."""
    run = _run(MODULE / "chapters" / "a.qmd")
    assert run.errors == ()
    placed = [(c.line, c.cell, str(c.source), c.record.passed) for c in run.checks]
    assert placed == [
        (18, "guard-in-module", "helper.py:3", False),  # helper.guard(x * 5)
        (19, "guard-in-module", "helper.py:3", True),  # helper.guard(x)
        # called from `uses-wrap` through `wrap`: the innermost cell frame, in wrap's body
        (25, "wrap", "helper.py:3", False),
    ]


def test_a_book_with_a_check_in_a_helper_module_reports_the_qmd_line_end_to_end(tmp_path):
    from invariants.check import check_book

    book = Path(shutil.copytree(MODULE, tmp_path / "module"))
    ran, cached = (check_book([book], jobs=1, strict=False) for _ in range(2))
    assert [c.cached for c in (*ran.chapters, *cached.chapters)] == [False, True]
    for report in (ran, cached):  # the result cache keeps where each check is written
        assert report.exit_code == 1
        assert [f.render().splitlines()[0] for f in report.failures()] == [
            "chapters/a.qmd:18: check failed: x is below 10 (in helper.py:3)",
            "chapters/a.qmd:25: check failed: x is below 10 (in helper.py:3)",
        ]
    data = json.loads((book / ".invariants" / "report.json").read_text(encoding="utf-8"))
    checks = data["chapters"][0]["checks"]
    assert [(c["line"], c["cell"], c["source"], c["passed"]) for c in checks] == [
        (18, "guard-in-module", {"file": "helper.py", "line": 3}, False),
        (19, "guard-in-module", {"file": "helper.py", "line": 3}, True),
        (25, "wrap", {"file": "helper.py", "line": 3}, False),
    ]


def test_inline_values_render_like_quarto(ridge):
    values = [(v.expr.line, v.text, v.magnitude, v.unit, v.error) for v in ridge.inline]
    assert values == [
        (15, "989.4", 989.4, None, None),  # str() of a float
        (24, "**295 FLOP/byte**", pytest.approx(989.4 / 3.35), "flop / byte", None),  # markdown
    ]


def test_eval_false_cells_are_skipped_and_cwd_is_the_chapter_folder(ridge):
    assert ridge.cells_run == 4  # setup, ridge, helpers, uses; the eval: false cell never ran
    assert ridge.errors == ()  # open("peak.txt") worked: the kernel ran in chapters/


def test_dependencies_are_imported_modules_and_opened_data_files(ridge):
    local = {Path(p).name for p in ridge.dependencies if Path(p).parent == TINY.resolve()}
    assert local == {"shim.py", "hw.py", "peak.txt"}
    assert any(p.endswith("/IPython/__init__.py") for p in ridge.dependencies)


def test_syntax_error_is_reported_at_its_qmd_line():
    run = _run(BAD / "syntax.qmd")
    (error,) = run.errors
    assert (error.kind, error.line, error.cell) == ("exception", 11, "broken")
    assert error.message == "SyntaxError: incomplete input in broken (syntax.qmd:11)"
    assert "\x1b[" not in error.traceback and "z = (x +" in error.traceback
    assert [v.text for v in run.inline] == ["1"]  # the prose after it is still evaluated


def test_raising_cell_reported_error_true_cell_allowed_and_later_cells_run():
    run = _run(BAD / "raises.qmd")
    error, inline_error = run.errors
    assert (error.kind, error.line, error.cell) == ("exception", 7, "divide")
    assert error.message == "ZeroDivisionError: division by zero in divide (raises.qmd:7)"
    assert "----> 4 ratio = a / b" in error.traceback
    assert (inline_error.kind, inline_error.line, inline_error.cell) == ("exception", 21, None)
    assert inline_error.message == (
        "inline `{python} nothing_here` raised NameError: name 'nothing_here' is not defined "
        "(raises.qmd:21)"
    )
    assert inline_error.follows is None  # no failed cell mentions it: a root cause of its own
    assert [(v.text, v.error) for v in run.inline] == [
        ("42", None),
        (None, "NameError: name 'nothing_here' is not defined"),
    ]


def test_a_name_error_from_a_failed_cells_names_follows_that_failure():
    run = _run(BOOKS / "followon" / "followon.qmd")
    assert [(e.line, e.message, e.follows) for e in run.errors] == [
        (6, "SyntaxError: incomplete input in setup (followon.qmd:6)", None),
        (11, "NameError: name 'math' is not defined in uses (followon.qmd:11)", 6),  # setup's
        (16, "NameError: name 'undefined_name' is not defined in typo (followon.qmd:16)", None),
        *((19, f"inline `{{python}} {name}` raised NameError: name {name!r} is not defined "
               "(followon.qmd:19)", follows)
          for name, follows in (("y", 6), ("z", 16), ("w", None))),  # y: from uses, so setup's
    ]  # fmt: skip


def test_a_cell_over_the_timeout_is_interrupted_and_the_next_cell_runs():
    run = _run(BAD / "loop.qmd", timeout=4)  # 40x what a cheap cell needs
    (error,) = run.errors
    assert (error.kind, error.line, error.cell) == ("timeout", 5, "spin")  # `while True:`
    assert error.message == "spin (loop.qmd:5) exceeded the 4 s timeout; interrupted"
    assert "KeyboardInterrupt" in error.traceback
    assert [v.text for v in run.inline] == ["still runs"]


def _slow_setup(monkeypatch, seconds: float) -> None:
    """The verifier's own set-up cell takes ``seconds`` (as on a stalled, busy machine)."""
    code = f"{runner._KERNEL_CODE}\nimport time\ntime.sleep({seconds})\n"
    monkeypatch.setattr(runner, "_KERNEL_CODE", code)


def test_the_verifiers_own_cells_are_not_held_to_the_authors_cell_timeout(monkeypatch):
    _slow_setup(monkeypatch, 4)  # longer than the author's 3 s, which the ~0.1 s cells keep
    run = _run(TINY / "ridge.qmd", timeout=3)
    assert run.errors == ()
    assert [v.text for v in run.inline] == ["989.4", "**295 FLOP/byte**"]


def test_the_verifiers_own_cells_are_held_to_the_kernel_start_up_budget(monkeypatch):
    _slow_setup(monkeypatch, 3)
    options = RunOptions(timeout=5, startup_timeout=1)

    async def run_on_a_kernel_started_without_that_budget():
        kernel = await start_kernel(cwd=TINY, startup_timeout=60)
        return await run_chapter_async(read_qmd(TINY / "ridge.qmd"), options, kernel)

    run = asyncio.run(run_on_a_kernel_started_without_that_budget())
    (error,) = run.errors
    assert (error.kind, error.message) == (
        "timeout",
        "the verifier's own code did not finish within 1 s",
    )


def test_a_dying_kernel_names_the_cell_that_killed_it():
    run = _run(BAD / "exits.qmd")
    (error,) = run.errors
    assert (error.kind, error.line, error.cell) == ("kernel_died", 9, "suicide")
    assert error.message == "the kernel died while running suicide (exits.qmd:9)"
    assert run.cells_run == 2


def test_a_missing_kernel_spec_is_a_no_kernel_error():
    run = _run(BAD / "exits.qmd", kernel_name="no-such-kernel")
    (error,) = run.errors
    assert error.kind == "no_kernel"
    assert "no Jupyter kernel spec named 'no-such-kernel'" in error.message


def test_the_real_mlsysim_check_speaks_to_the_runner():
    run = _run(BOOKS / "real" / "roofline.qmd")
    assert run.errors == ()
    assert [(c.line, c.record.kind, c.record.passed) for c in run.checks] == [
        (9, "check", True),
        (10, "check", False),
        (11, "golden", True),
    ]
    assert run.checks[2].record.golden["magnitude"] == pytest.approx(989.4 / 3.35)
    formatted, bare = run.inline
    assert (formatted.expr.line, formatted.text, formatted.unit) == (
        14,
        "295 FLOP/byte",
        "flop / byte",
    )
    # A bare Quantity is published under the same long unit name as a Formatted one, as
    # invariants.protocol.published_value names it (not the registry's short "FLOP/B").
    assert (bare.expr.line, bare.unit) == (16, "flop / byte")
    assert bare.magnitude == pytest.approx(989.4 / 3.35)


def test_strip_ansi_removes_colour_codes():
    assert strip_ansi("\x1b[0;31mZeroDivisionError\x1b[0m: x") == "ZeroDivisionError: x"


def test_inline_expressions_that_hang_or_kill_the_kernel_are_named_at_their_prose_line():
    run = _run(BOOKS / "inline" / "inline.qmd", timeout=4)
    timeout, died = run.errors
    assert (timeout.kind, timeout.line) == ("timeout", 15)
    assert timeout.message == (
        "inline `{python} spin()` (inline.qmd:15) exceeded the 4 s timeout; interrupted"
    )
    assert (died.kind, died.line) == ("kernel_died", 29)
    assert died.message == (
        "the kernel died while evaluating inline `{python} os._exit(3)` (inline.qmd:29)"
    )
    assert [(v.expr.code, v.text) for v in run.inline] == [("after", "43")]


def test_checks_published_while_evaluating_prose_land_on_the_prose_line():
    run = _run(BOOKS / "inline" / "checked.qmd")
    assert run.errors == ()
    placed = [
        (c.line, c.cell, c.record.message, c.record.passed, c.source and str(c.source))
        for c in run.checks
    ]
    assert placed == [
        (16, None, "a shown value is positive", False, None),
        (16, None, "a shown value is positive", True, None),
        (18, None, "x is below 10", False, "helper.py:5"),
    ]
    assert [v.text for v in run.inline] == ["-1", "2", "12"]


def test_a_check_sent_before_an_inline_timeout_lands_on_the_expression_that_hung():
    run = _run(BOOKS / "inline" / "hang_check.qmd", timeout=4)
    (timeout,) = run.errors
    assert (timeout.kind, timeout.line) == ("timeout", 18)
    assert [(c.line, c.record.message, c.record.passed) for c in run.checks] == [
        (18, "slow value is big", False)
    ]


def test_run_chapter_works_inside_a_running_event_loop():
    import asyncio

    async def from_a_notebook():
        return run_chapter(read_qmd(BAD / "syntax.qmd"))

    run = asyncio.run(from_a_notebook())
    assert [v.text for v in run.inline] == ["1"]
