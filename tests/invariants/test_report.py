"""Report writers: chapter status and exit codes, the JSON schema, JUnit XML and the console."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from dataclasses import replace
from pathlib import Path

import jsonschema
import pytest
from rich.console import Console

from invariants.model import (
    ChapterRun,
    CheckOutcome,
    ExecutionError,
    GoldenFinding,
    SourceLocation,
)
from invariants.protocol import CheckRecord, PublishedValue
from invariants.render import junit_xml
from invariants.report import BookReport, ChapterReport
from invariants.report_schema import REPORT_SCHEMA

BOOK = Path("/books/mlsys")


def check(message, passed, line, name=None, cell="kv", **values):
    record = CheckRecord(
        kind="check", message=message, passed=passed, file="cell", line=2, name=name,
        values={k: PublishedValue(*v) for k, v in values.items()},
    )  # fmt: skip
    return CheckOutcome(record=record, line=line, cell=cell)


RIDGE_OK = check("H100 decode is memory-bound", True, 57, cell="ridge-point",
                 ridge=(295.2, "flop / byte", "295 FLOP/byte"))  # fmt: skip
KV_FAILS = check("KV cache fits in 80 GB", False, 61, name="kv-fits",
                 kv=(96.0, "gigabyte", "96 GB"), hbm=(80.0, "gigabyte", "80 GB"))  # fmt: skip
SHIFT = GoldenFinding(
    key="ridge_str", kind="inline", status="shifted", old="295 FLOP/byte", new="312 FLOP/byte",
    rel_change=0.0576, line=88,
    message="published text changed: 295 FLOP/byte → 312 FLOP/byte (+5.76%)",
)  # fmt: skip
SAME = GoldenFinding(key="n_gpus", kind="inline", status="ok", old="8", new="8", line=90)
NEW = GoldenFinding(
    key="energy_str", kind="inline", status="new", new="3 kWh", line=95,
    message="new since the snapshot (reported only: strict mode is off; record it with --update)",
)  # fmt: skip
NEW_STRICT = replace(
    NEW, message="new since the snapshot (fails: strict mode; record it with --update)"
)
BOOM = ExecutionError(
    kind="exception", message="ZeroDivisionError: division by zero", line=40, cell="load",
    traceback="\x1b[31mTraceback\x1b[0m (most recent call last):\n  Cell In[3], line 2\n"
    "ZeroDivisionError: division by zero",
)  # fmt: skip


def chapter(name, *, checks=(), findings=(), errors=(), cells=3, seconds=0.5, cached=False):
    run = ChapterRun(chapter=BOOK / name, cells_run=cells, checks=checks, errors=errors,
                     duration_s=seconds)  # fmt: skip
    return ChapterReport(path=name, run=run, findings=findings, cached=cached)


def sample(strict=False):
    return BookReport(
        book=BOOK,
        chapters=[
            chapter("chapters/01_intro.qmd", cells=2, seconds=0.2, cached=True),
            chapter("chapters/03_hardware.qmd", checks=(RIDGE_OK, KV_FAILS),
                    findings=[SHIFT, SAME, NEW], cells=6, seconds=1.84),
            chapter("chapters/05_training.qmd", errors=(BOOM,)),
        ],
        strict=strict,
    )  # fmt: skip


TRAINING_ERROR = [
    "chapters/05_training.qmd:40: exception in cell load: ZeroDivisionError: division by zero",
    "    Traceback (most recent call last):",
    "      Cell In[3], line 2",
    "    ZeroDivisionError: division by zero",
]
HARDWARE_FAILURES = [
    "chapters/03_hardware.qmd:61: check failed [kv-fits]: KV cache fits in 80 GB",
    "    kv = 96 GB (96.0 gigabyte)",
    "    hbm = 80 GB (80.0 gigabyte)",
    "    in cell kv",
    "chapters/03_hardware.qmd:88: shifted: inline `{python} ridge_str`",
    "    published text changed: 295 FLOP/byte → 312 FLOP/byte (+5.76%)",
]


# --- status and exit code -------------------------------------------------------------------


def test_status_and_exit_code_follow_the_worst_chapter():
    report = sample()
    assert [c.status for c in report.chapters] == ["passed", "failed", "error"]
    assert report.exit_code == 2
    assert BookReport(BOOK, report.chapters[:2]).exit_code == 1
    assert BookReport(BOOK, report.chapters[:1]).exit_code == 0
    assert BookReport(BOOK, []).exit_code == 0


def test_failed_check_alone_fails_and_a_golden_record_never_does():
    golden_record = CheckRecord(
        kind="golden",
        message="g",
        passed=True,
        file="c",
        line=1,
        name="g",
        golden={"magnitude": 1.0, "unit": None, "text": "1"},
    )
    ok = chapter("a.qmd", checks=(CheckOutcome(golden_record, 3, None),))
    assert ok.status == "passed"
    assert chapter("b.qmd", checks=(KV_FAILS,)).status == "failed"


@pytest.mark.parametrize("status", ["shifted", "out_of_tolerance", "unit_error"])
def test_failing_golden_statuses_fail_the_chapter(status):
    finding = GoldenFinding(key="k", kind="golden", status=status)
    assert chapter("a.qmd", findings=[finding]).status == "failed"


@pytest.mark.parametrize("status", ["new", "missing"])
def test_new_and_missing_fail_only_under_strict(status):
    finding = GoldenFinding(key="k", kind="inline", status=status)
    assert BookReport(BOOK, [chapter("a.qmd", findings=[finding])]).exit_code == 0
    assert BookReport(BOOK, [chapter("a.qmd", findings=[finding])], strict=True).exit_code == 1


def test_update_findings_never_fail_even_under_strict():
    written = [GoldenFinding(key=k, kind="inline", status=s)
               for k, s in (("a", "new"), ("b", "updated"), ("c", "removed"))]  # fmt: skip
    report = chapter("a.qmd", findings=written)
    report.updated = True
    book = BookReport(BOOK, [report, chapter("b.qmd")], strict=True)
    assert book.exit_code == 0
    lines = [line.rstrip() for line in render(book).splitlines()]
    assert lines[4] == " passed   a.qmd            3   1 new, 1 updated, 1 removed   0.5 s"
    assert lines[-1] == "OK: all 2 chapters hold. Goldens updated (3 changes)."


def test_a_chapter_without_a_run_or_with_checker_errors_is_an_error():
    reader = ExecutionError(kind="reader", message="ch.qmd:3: unclosed ```{python} fence", line=3)
    assert ChapterReport(path="ch.qmd", run=None).status == "error"
    assert ChapterReport(path="ch.qmd", run=ChapterRun(BOOK / "ch.qmd", 0),
                         errors=[reader]).status == "error"  # fmt: skip


def test_summary_counts():
    assert sample().summary == {
        "chapters": 3, "cells": 11, "checks_passed": 1, "checks_failed": 1, "shifts": 1,
        "new": 1, "missing": 0, "errors": 1, "cached": 1,
    }  # fmt: skip


# --- JSON -----------------------------------------------------------------------------------


def test_json_report_matches_the_shared_schema_exactly():
    data = sample().to_json()
    jsonschema.validate(data, REPORT_SCHEMA)
    head = ("schema", "version", "generated_by", "book", "ok", "exit_code")
    assert {k: data[k] for k in head} == {
        "schema": "mlsysim-invariants-report", "version": 2, "generated_by": "mlsysim 0.1.0",
        "book": "/books/mlsys", "ok": False, "exit_code": 2,
    }  # fmt: skip
    hardware = data["chapters"][1]
    assert hardware == {
        "path": "chapters/03_hardware.qmd", "status": "failed", "cached": False,
        "duration_s": 1.84, "cells": 6,
        "checks": [
            {"kind": "check", "name": None, "message": "H100 decode is memory-bound",
             "passed": True, "line": 57, "cell": "ridge-point", "source": None,
             "values": {"ridge": {"magnitude": 295.2, "unit": "flop / byte",
                                  "text": "295 FLOP/byte"}}},
            {"kind": "check", "name": "kv-fits", "message": "KV cache fits in 80 GB",
             "passed": False, "line": 61, "cell": "kv", "source": None,
             "values": {"kv": {"magnitude": 96.0, "unit": "gigabyte", "text": "96 GB"},
                        "hbm": {"magnitude": 80.0, "unit": "gigabyte", "text": "80 GB"}}},
        ],
        "golden": [
            {"key": "ridge_str", "kind": "inline", "status": "shifted", "old": "295 FLOP/byte",
             "new": "312 FLOP/byte", "rel_change": 0.0576, "line": 88,
             "message": "published text changed: 295 FLOP/byte → 312 FLOP/byte (+5.76%)"},
            {"key": "n_gpus", "kind": "inline", "status": "ok", "old": "8", "new": "8",
             "rel_change": None, "line": 90, "message": ""},
            {"key": "energy_str", "kind": "inline", "status": "new", "old": None,
             "new": "3 kWh", "rel_change": None, "line": 95,
             "message": "new since the snapshot (reported only: strict mode is off; record it "
                        "with --update)"},
        ],
        "errors": [], "source_sha1": None, "publications": [],
    }  # fmt: skip
    assert data["chapters"][2]["errors"] == [{
        "kind": "exception", "message": "ZeroDivisionError: division by zero", "line": 40,
        "cell": "load", "traceback": "Traceback (most recent call last):\n  Cell In[3], line 2\n"
        "ZeroDivisionError: division by zero", "follows": None,
    }]  # fmt: skip
    assert data["wall_s"] is None  # a hand-built report: not timed


def test_json_carries_the_wall_time_and_each_follow_on_errors_root_line():
    report = two_broken_chapters()
    report.wall_s = 12.9374
    data = report.to_json()
    jsonschema.validate(data, REPORT_SCHEMA)
    assert data["wall_s"] == 12.937
    assert [e["follows"] for e in data["chapters"][0]["errors"]] == [None, 10, 10, 10]
    before = json.loads(json.dumps(data))  # a report written before the optional keys
    del before["wall_s"]
    for error in before["chapters"][0]["errors"]:
        del error["follows"]
    jsonschema.validate(before, REPORT_SCHEMA)


def test_a_check_written_in_a_module_names_its_file_after_the_qmd_call_line(tmp_path):
    """Regression (issue 8): such a failure printed ``a.qmd: check failed: ...`` with no line."""
    record = CheckRecord(
        kind="check", message="x is below 10", passed=False, file="/book/chapters/helper.py",
        line=3, values={"x": PublishedValue(15.0, None, "15")},
        cell_file="/tmp/ipykernel_42/9813.py", cell_line=4,
    )  # fmt: skip
    outcome = CheckOutcome(record, 18, "guard-in-module", SourceLocation("helper.py", 3))
    report = BookReport(BOOK, [chapter("chapters/a.qmd", checks=(outcome,))])
    (failure,) = report.failures()
    assert failure.render() == (
        "chapters/a.qmd:18: check failed: x is below 10 (in helper.py:3)\n"
        "    x = 15 (15.0)\n"
        "    in cell guard-in-module"
    )
    data = report.to_json()
    jsonschema.validate(data, REPORT_SCHEMA)
    (entry,) = data["chapters"][0]["checks"]
    assert (entry["line"], entry["cell"], entry["source"]) == (
        18,
        "guard-in-module",
        {"file": "helper.py", "line": 3},
    )
    report.write_junit(tmp_path / "junit.xml")
    (failed,) = ET.parse(tmp_path / "junit.xml").getroot().iter("failure")
    assert failed.get("message") == (
        "chapters/a.qmd:18: check failed: x is below 10 (in helper.py:3)"
    )
    del entry["source"]  # a report written before the optional key still validates
    jsonschema.validate(data, REPORT_SCHEMA)


# --- publications: where each inline value was published, for the Quarto filter -------------

PUBLISHING = """\
---
title: "Serving {.not-words}"
---

# Serving an LLM {#sec-serving}

A [batch](https://example.org/batch_(computing)) of `{python} batch` takes
`{python} latency`.<!-- measured on one H100 -->

```{python}
batch = 16  # code words are not prose
```

At *`{python} batch`* requests, `{python} broken` fails and `{python} batch`
is the “largest” batch &amp; the fastest.
"""


def published_run(path, texts):
    """A run of ``PUBLISHING`` whose n-th inline expression printed ``texts[n]`` (None: raised)."""
    from invariants.model import InlineValue
    from invariants.qmd import parse_qmd

    chapter = parse_qmd(PUBLISHING, path)
    inline = tuple(
        InlineValue(expr, text, error=None if text is not None else "NameError")
        for expr, text in zip(chapter.inline, texts, strict=True)
    )
    return ChapterRun(chapter=path, cells_run=1, inline=inline)


def test_publications_give_each_value_its_place_and_the_prose_words_around_it():
    """Source order; front matter, code, link targets, attributes and HTML comments are not
    words; a neighbouring value counts as its text; one that raised has no publication (and
    prints nothing); the same expression printing another text is its second golden entry."""
    from invariants.model import Publication
    from invariants.publications import publications

    path = BOOK / "chapters" / "serving.qmd"
    run = published_run(path, ["8", "12 ms", "16", None, "8"])
    assert publications(PUBLISHING, path, run) == (
        Publication("batch", "8", 7, 53, ("an", "LLM", "A", "batch", "of"),
                    ("takes", "12", "ms", "At", "16")),
        Publication("latency", "12 ms", 8, 1, ("A", "batch", "of", "8", "takes"),
                    ("At", "16", "requests", "fails", "and")),
        Publication("batch #2", "16", 14, 5, ("8", "takes", "12", "ms", "At"),
                    ("requests", "fails", "and", "8", "is")),
        Publication("batch", "8", 14, 61, ("At", "16", "requests", "fails", "and"),
                    ("is", "the", "largest", "batch", "the")),
    )  # fmt: skip


def test_json_lists_each_publication_and_the_checked_files_sha1():
    from invariants.publications import publications

    path = BOOK / "chapters" / "serving.qmd"
    run = published_run(path, ["8", "12 ms", "16", None, "8"])
    sha1 = "0" * 40
    report = ChapterReport("chapters/serving.qmd", run, publications=publications(
        PUBLISHING, path, run), source_sha1=sha1)  # fmt: skip
    data = BookReport(BOOK, [report]).to_json()
    jsonschema.validate(data, REPORT_SCHEMA)
    (chapter,) = data["chapters"]
    assert chapter["source_sha1"] == sha1
    assert chapter["publications"][1] == {
        "key": "latency", "text": "12 ms", "line": 8, "column": 1,
        "before": ["A", "batch", "of", "8", "takes"],
        "after": ["At", "16", "requests", "fails", "and"],
    }  # fmt: skip
    chapter["source_sha1"] = "not a sha1"
    with pytest.raises(jsonschema.ValidationError, match="does not match"):
        jsonschema.validate(data, REPORT_SCHEMA)


def test_schema_rejects_a_report_missing_a_summary_key():
    data = sample().to_json()
    del data["summary"]["shifts"]
    with pytest.raises(jsonschema.ValidationError, match="'shifts' is a required property"):
        jsonschema.validate(data, REPORT_SCHEMA)


def test_write_json_is_the_json_and_leaves_no_temp_file(tmp_path):
    target = tmp_path / ".invariants" / "report.json"
    target.parent.mkdir()
    target.write_text("old")
    sample().write_json(target)
    assert json.loads(target.read_text(encoding="utf-8")) == sample().to_json()
    assert "→" in target.read_text(encoding="utf-8")  # UTF-8, not \\u escapes
    assert [p.name for p in target.parent.iterdir()] == ["report.json"]


# --- JUnit ----------------------------------------------------------------------------------


def test_junit_has_one_testcase_per_chapter_with_qmd_lines(tmp_path):
    target = tmp_path / "junit.xml"
    sample().write_junit(target)
    root = ET.parse(target).getroot()
    assert root.tag == "testsuites"
    (suite,) = root
    assert {k: suite.get(k) for k in ("name", "tests", "failures", "errors", "time")} == {
        "name": "mlsys", "tests": "3", "failures": "1", "errors": "1", "time": "2.340",
    }  # fmt: skip
    cases = suite.findall("testcase")
    assert [c.get("name") for c in cases] == [
        "chapters/01_intro.qmd", "chapters/03_hardware.qmd", "chapters/05_training.qmd",
    ]  # fmt: skip
    assert [c.get("time") for c in cases] == ["0.000", "1.840", "0.500"]  # intro is cached
    intro, hardware, training = cases
    assert [child.tag for child in intro] == ["system-out"]
    (failure,) = hardware.findall("failure")
    assert failure.get("message") == (
        "chapters/03_hardware.qmd:61: check failed [kv-fits]: KV cache fits in 80 GB"
    )
    assert failure.text.splitlines() == HARDWARE_FAILURES
    (error,) = training.findall("error")
    assert error.get("message") == (
        "chapters/05_training.qmd:40: exception in cell load: ZeroDivisionError: division by zero"
    )
    assert "\x1b" not in error.text
    assert error.text.endswith("    ZeroDivisionError: division by zero")


# --- console --------------------------------------------------------------------------------


def render(report, max_failures=5):
    console = Console(record=True, width=120)
    report.render_console(console, max_failures=max_failures)
    return console.export_text()


EXPECTED_TABLE = (Path(__file__).parent / "fixtures" / "reader" / "console_summary.txt").read_text(
    encoding="utf-8"
)


def test_console_summary_table_and_first_failures_in_full():
    lines = [line.rstrip() for line in render(sample()).splitlines()]
    assert "\n".join(lines[:10]) + "\n" == EXPECTED_TABLE  # summary table and totals footer
    assert lines[10:] == [
        "First failures (3 of 3):",
        *TRAINING_ERROR,  # errors first, then broken checks and shifts
        *HARDWARE_FAILURES,
        "ERROR (exit 2): 1 check failed, 1 golden shift, 1 error.",
    ]


def test_console_fits_80_columns_without_breaking_paths_or_locations():
    console = Console(record=True, width=80)
    sample().render_console(console)
    lines = [line.rstrip() for line in console.export_text().splitlines()]
    assert (
        lines[4]
        == " passed   chapters/01_intro.qmd          2   nothing to check            cached"
    )
    assert lines[5:7] == [
        " failed   chapters/03_hardware.qmd       6   1 check ✓, 1 check ✗, 1      1.8 s",
        "                                             value ✓, 1 shift, 1 new",
    ]
    assert TRAINING_ERROR[0] in lines  # soft-wrapped: one line however long


def test_console_shows_only_the_first_failures():
    lines = render(sample(), max_failures=1).splitlines()[10:]
    assert lines[0] == "First failures (1 of 3):"
    assert lines[-2:] == [
        "... and 2 more in the JSON report.",
        "ERROR (exit 2): 1 check failed, 1 golden shift, 1 error.",
    ]


def test_console_footer_gives_the_wall_time_not_the_sum_of_the_rows():
    report = sample()
    report.wall_s = 1.94  # chapters ran concurrently: rows 1.84 + 0.5 (intro cached)
    lines = [line.rstrip() for line in render(report).splitlines()]
    assert lines[8] == (
        " ERROR    3 chapters (1 cached)         11   1 check ✓, 1 check ✗, 1 value ✓, 1 shift, "
        "1 new, 1 error    1.9 s"
    )
    assert lines[5].endswith("1.8 s") and lines[6].endswith("0.5 s")  # rows keep their own
    assert EXPECTED_TABLE.splitlines()[8].endswith("2.3 s")  # unknown wall time: the rows' sum


# A chapter whose setup cell failed (and the NameErrors that follow from it), and a second
# broken chapter further on: its root cause must not hide behind the first one's follow-ons.
SETUP_BROKEN = ExecutionError(
    kind="exception", message="SyntaxError: '(' was never closed in setup (03_hardware.qmd:10)",
    line=10, cell="setup", traceback="SyntaxError: '(' was never closed",
)  # fmt: skip
FOLLOW_ONS = tuple(
    ExecutionError(kind="exception", line=line, follows=10, traceback="NameError: ...",
                   message=f"inline `{{python}} {name}` raised NameError: name {name!r} is not "
                   f"defined (03_hardware.qmd:{line})")
    for line, name in ((73, "a100_name"), (74, "a100_bw_str"), (75, "h100_name"))
)  # fmt: skip
SPINS = ExecutionError(
    kind="timeout", message="six-nd (05_training.qmd:40) exceeded the 5 s timeout; interrupted",
    line=40, cell="six-nd",
)  # fmt: skip


def two_broken_chapters():
    return BookReport(BOOK, [
        chapter("chapters/03_hardware.qmd", errors=(SETUP_BROKEN, *FOLLOW_ONS)),
        chapter("chapters/04_efficient.qmd", checks=(KV_FAILS,)),
        chapter("chapters/05_training.qmd", errors=(SPINS,)),
    ])  # fmt: skip


def test_console_shows_each_broken_chapters_first_failure_before_follow_on_errors():
    lines = render(two_broken_chapters(), max_failures=4).splitlines()[10:]
    assert lines == [
        "First failures (4 of 6; 3 follow-on errors last):",
        "chapters/03_hardware.qmd:10: exception in cell setup: SyntaxError: '(' was never closed "
        "in setup (03_hardware.qmd:10)",
        "    SyntaxError: '(' was never closed",
        "chapters/05_training.qmd:40: timeout in cell six-nd: six-nd (05_training.qmd:40) "
        "exceeded the 5 s timeout; interrupted",
        "chapters/04_efficient.qmd:61: check failed [kv-fits]: KV cache fits in 80 GB",
        "    kv = 96 GB (96.0 gigabyte)",
        "    hbm = 80 GB (80.0 gigabyte)",
        "    in cell kv",
        "chapters/03_hardware.qmd:73: exception: inline `{python} a100_name` raised NameError: "
        "name 'a100_name' is not defined (03_hardware.qmd:73)",
        "    follow-on of the failure at chapters/03_hardware.qmd:10: fix that first",
        "... and 2 more in the JSON report.",
        "ERROR (exit 2): 1 check failed, 5 errors.",
    ]


def test_a_chapters_own_failures_keep_run_order_and_junit_marks_follow_ons():
    hardware = two_broken_chapters().chapters[0]
    assert [(f.line, f.rank) for f in hardware.failures()] == [(10, 0), (73, 3), (74, 3), (75, 3)]
    error, _ = ET.fromstring(junit_xml(two_broken_chapters())).iter("error")
    assert error.get("message") == (
        "chapters/03_hardware.qmd:10: exception in cell setup: SyntaxError: '(' was never closed "
        "in setup (03_hardware.qmd:10)"
    )
    assert error.text.splitlines()[4:6] == [
        "chapters/03_hardware.qmd:74: exception: inline `{python} a100_bw_str` raised NameError: "
        "name 'a100_bw_str' is not defined (03_hardware.qmd:74)",
        "    follow-on of the failure at chapters/03_hardware.qmd:10: fix that first",
    ]


def test_console_verdicts_for_ok_and_strict_runs():
    pending = BookReport(BOOK, [chapter("a.qmd", findings=[NEW, SAME])])
    assert render(pending).splitlines()[-1] == (
        "OK: the chapter holds. Not in the snapshot: 1 new (record them with --update)."
    )
    strict = BookReport(BOOK, [chapter("a.qmd", findings=[NEW_STRICT, SAME])], strict=True)
    assert render(strict).splitlines()[-4:] == [
        "First failures (1 of 1):",
        "a.qmd:95: new: inline `{python} energy_str`",
        "    new since the snapshot (fails: strict mode; record it with --update)",
        "FAILED (exit 1): 1 new value.",
    ]


def test_console_does_not_interpret_markup_in_author_text():
    bracketed = check("[bold]not markup[/bold] holds", False, 3, cell=None)
    text = render(BookReport(BOOK, [chapter("a.qmd", checks=(bracketed,))]))
    assert "a.qmd:3: check failed: [bold]not markup[/bold] holds" in text


def test_docs_carry_the_exact_report_schema():
    docs = (Path(__file__).parents[2] / "docs" / "invariants.md").read_text(encoding="utf-8")
    block = docs.split("<details><summary>REPORT_SCHEMA</summary>", 1)[1]
    documented = block.split("```json\n", 1)[1].split("```", 1)[0]
    assert json.loads(documented) == REPORT_SCHEMA


def test_change_text_is_one_line_with_empty_set_for_no_value():
    from invariants.render import change_text

    assert change_text(SHIFT) == "shifted inline 'ridge_str': 295 FLOP/byte → 312 FLOP/byte"
    assert change_text(NEW, width=8) == "     new inline 'energy_str': ∅ → 3 kWh"
