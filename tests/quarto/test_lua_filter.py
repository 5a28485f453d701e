"""The extension's Lua filter under REAL pandoc (the pypandoc-binary wheel), on markdown shaped like
Quarto's executed output (cell divs, inline values already substituted).

Plain-pandoc runs exercise the fallbacks (PANDOC_STATE input file, working directory, stderr).
Runs through ``quarto_standin.lua`` exercise the Quarto paths (``quarto.project.directory``,
``quarto.doc.input_file``, ``quarto.log.warning``, ``quarto.Callout``). pandoc 3 gives every
``-L`` filter a fresh Lua state, so a prelude filter's globals never reach the next filter: the
stand-in defines ``quarto`` and then loads ``mlsysim.lua`` itself, in one state.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

pypandoc = pytest.importorskip("pypandoc")

REPO = Path(__file__).resolve().parents[2]
FILTER = REPO / "quarto_ext" / "_extensions" / "mlsysim" / "mlsysim.lua"
FIXTURE = Path(__file__).parent / "fixtures" / "executed"
CHAPTER = "chapters/03_hardware.qmd"
LUA_ERROR_EXIT = 83  # pandoc's exit code for an error raised in a Lua filter

FAILURE_TEXT = (
    "mlsysim: chapters/03_hardware.qmd breaks its invariants (status failed), and the pre-render"
    " check did not stop this build:\n"
    "  chapters/03_hardware.qmd:12: H100 is memory-bound below 100 FLOP/byte"
    " (ridge = 312 FLOP/byte)\n"
    "  chapters/03_hardware.qmd:21: ridge_str: published text changed: 295 FLOP/byte →"
    " 312 FLOP/byte (+5.76%)\n"
    "Run `mlsysim check chapters/03_hardware.qmd` for details; if a change is intended,"
    " `mlsysim check --update` records it."
)


def publication(key: str, text: str, line: int, column: int, before: str, after: str) -> dict:
    return {"key": key, "text": text, "line": line, "column": column,
            "before": before.split(), "after": after.split()}  # fmt: skip


# What `mlsysim check` writes for the fixture's `.qmd` (tests/invariants/test_report.py checks
# that it does): each publication with the words next to it there.
PUBLICATIONS = [
    publication("ridge_str", "312 FLOP/byte", 21, 32, "s ridge point sits at",
                "A kernel below it waits"),
    publication("bw_str", "3.35 TB/s", 22, 26, "on memory which streams at",
                "a rack of them moves"),
    publication("decode_str", "41.8 ms", 30, 42, "of a 70B model takes",
                "the memory floor and the"),
    publication("answer_str", r"$12\,\text{s}$", 31, 24, "and the whole answer takes", ""),
]  # fmt: skip


def report(status: str = "failed", **chapter_changes: Any) -> dict[str, Any]:
    """A report in the documented schema: one chapter with one failed check, one shifted value,
    two unchanged values (one in Emph) and one in math."""
    chapter = {
        "path": CHAPTER,
        "status": status,
        "cached": False,
        "duration_s": 1.2,
        "cells": 2,
        "checks": [
            {
                "kind": "check",
                "name": None,
                "message": "H100 is memory-bound below 100 FLOP/byte",
                "passed": status == "passed",
                "line": 12,
                "cell": "ridge-point",
                "values": {
                    "ridge": {"magnitude": 312.0, "unit": "flop / byte", "text": "312 FLOP/byte"}
                },
            }
        ],
        "golden": [
            {
                "key": "ridge_str",
                "kind": "inline",
                "status": "ok" if status == "passed" else "shifted",
                "old": "295 FLOP/byte" if status != "passed" else "312 FLOP/byte",
                "new": "312 FLOP/byte",
                "rel_change": 0.0576 if status != "passed" else 0.0,
                "line": 21,
                "message": (
                    "published text changed: 295 FLOP/byte → 312 FLOP/byte (+5.76%)"
                    if status != "passed"
                    else ""
                ),
            },
            {
                "key": "bw_str",
                "kind": "inline",
                "status": "ok",
                "old": "3.35 TB/s",
                "new": "3.35 TB/s",
                "rel_change": 0.0,
                "line": 22,
                "message": "",
            },
            {
                "key": "decode_str",
                "kind": "inline",
                "status": "ok",
                "old": "41.8 ms",
                "new": "41.8 ms",
                "rel_change": 0.0,
                "line": 30,
                "message": "",
            },
            {
                "key": "answer_str",
                "kind": "inline",
                "status": "ok",
                "old": r"$12\,\text{s}$",
                "new": r"$12\,\text{s}$",
                "rel_change": 0.0,
                "line": 31,
                "message": "",
            },
            {
                "key": "h100_ridge",
                "kind": "golden",
                "status": "ok",
                "old": "312 FLOP/byte",
                "new": "312 FLOP/byte",
                "rel_change": 0.0,
                "line": 14,
                "message": "",
            },
        ],
        "errors": [],
        "source_sha1": hashlib.sha1((FIXTURE / CHAPTER).read_bytes()).hexdigest(),
        "publications": PUBLICATIONS,
    }
    chapter.update(chapter_changes)
    failed = status != "passed"
    return {
        "schema": "mlsysim-invariants-report",
        "version": 2,
        "generated_by": "mlsysim 0.1.0",
        "book": "/abs/book",
        "ok": not failed,
        "exit_code": 1 if failed else 0,
        "summary": {
            "chapters": 1,
            "cells": 2,
            "checks_passed": int(not failed),
            "checks_failed": int(failed),
            "shifts": int(failed),
            "new": 0,
            "missing": 0,
            "errors": 0,
            "cached": 0,
        },
        "chapters": [chapter],
    }


@pytest.fixture
def book(tmp_path: Path) -> Path:
    """A copy of the executed-output fixture project (report written per test)."""
    root = tmp_path / "book"
    shutil.copytree(FIXTURE, root)
    (root / ".invariants").mkdir()
    return root


def write_meta(book: Path, text: str) -> str:
    """A YAML metadata file (``-M a.b=c`` would set a key named "a.b", not a nested one)."""
    path = book / "meta.yml"
    path.write_text(text, encoding="utf-8")
    return str(path)


def review_meta(book: Path) -> str:
    return write_meta(book, "mlsysim:\n  review: true\n")


def write_report(book: Path, data: dict[str, Any], name: str = ".invariants/report.json") -> None:
    (book / name).parent.mkdir(parents=True, exist_ok=True)
    (book / name).write_text(json.dumps(data), encoding="utf-8")


def pandoc(
    book: Path,
    *args: str,
    standin: bool = False,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    stdin: str | None = None,
) -> subprocess.CompletedProcess[str]:
    filters = ["-L", str(FIXTURE / "quarto_standin.lua") if standin else str(FILTER)]
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("QUARTO", "MLSYSIM"))}
    environment.update(env or {})
    environment["STANDIN_FILTER"] = str(FILTER)
    return subprocess.run(
        [pypandoc.get_pandoc_path(), *args, "-f", "markdown", "-t", "json", *filters],
        cwd=cwd or book,
        env=environment,
        input=stdin,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=60,
    )


def stringify(inlines: list[dict[str, Any]]) -> str:
    parts = []
    for el in inlines:
        kind, content = el["t"], el.get("c")
        if kind == "Str":
            parts.append(content)
        elif kind in ("Space", "SoftBreak"):
            parts.append(" ")
        elif kind == "Math":
            parts.append(f"${content[1]}$")
        elif kind in ("Emph", "Strong"):
            parts.append(stringify(content))
        elif kind == "Span":
            parts.append(stringify(content[1]))
    return "".join(parts)


def value_spans(node: Any) -> list[tuple[str, dict[str, str]]]:
    """(text, attributes) of every Span.mlsysim-value, in document order."""
    found = []
    if isinstance(node, dict):
        if node.get("t") == "Span" and "mlsysim-value" in node["c"][0][1]:
            found.append((stringify(node["c"][1]), dict(node["c"][0][2])))
        for value in node.values():
            found += value_spans(value)
    elif isinstance(node, list):
        for value in node:
            found += value_spans(value)
    return found


def plain_output(book: Path) -> dict[str, Any]:
    """The document as pandoc reads it, without any filter."""
    done = subprocess.run(
        [pypandoc.get_pandoc_path(), "chapters/03_hardware.md", "-f", "markdown", "-t", "json"],
        cwd=book,
        capture_output=True,
        text=True,
        encoding="utf-8",
        check=True,
    )
    return json.loads(done.stdout)


def test_the_reports_publications_are_what_mlsysim_check_writes() -> None:
    """PUBLICATIONS, the filter's input here, is the checker's own reading of the fixture."""
    from invariants.model import ChapterRun, InlineValue
    from invariants.publications import publications
    from invariants.qmd import read_qmd
    from invariants.report import ChapterReport

    chapter = read_qmd(FIXTURE / CHAPTER)
    texts = {p["key"]: p["text"] for p in PUBLICATIONS}
    run = ChapterRun(FIXTURE / CHAPTER, 2, inline=tuple(InlineValue(e, texts[e.code])
                                                         for e in chapter.inline))  # fmt: skip
    found = publications(chapter.text, chapter.path, run)
    assert ChapterReport(CHAPTER, run, publications=found).to_json()["publications"] == (
        PUBLICATIONS
    )


# --- (1) a broken chapter fails the render --------------------------------------------------


def test_failed_chapter_stops_plain_pandoc_with_every_failure_listed(book: Path) -> None:
    write_report(book, report("failed"))
    done = pandoc(book, "chapters/03_hardware.md")
    assert done.returncode == LUA_ERROR_EXIT
    assert FAILURE_TEXT in done.stderr
    assert done.stdout == ""


def test_execution_errors_are_listed_with_their_cell(book: Path) -> None:
    error = {
        "kind": "exception",
        "message": "ZeroDivisionError: division by zero",
        "line": 9,
        "cell": "ridge-point",
        "traceback": "...",
    }
    follow_on = {
        "kind": "exception",
        "message": "NameError: name 'ridge' is not defined",
        "line": 20,
        "cell": None,
        "traceback": "...",
        "follows": 9,
    }
    data = report("error", checks=[], golden=[], errors=[error, follow_on])
    data["wall_s"] = 2.5  # the optional keys a newer checker writes are read, not refused
    write_report(book, data)
    done = pandoc(book, "chapters/03_hardware.md")
    assert done.returncode == LUA_ERROR_EXIT
    assert (
        "mlsysim: chapters/03_hardware.qmd breaks its invariants (status error), and the"
        " pre-render check did not stop this build:\n"
        "  chapters/03_hardware.qmd:9: exception in cell ridge-point:"
        " ZeroDivisionError: division by zero\n"
        "  chapters/03_hardware.qmd:20: exception: NameError: name 'ridge' is not defined"
        " (follow-on of line 9)\n"
    ) in done.stderr


def test_quarto_paths_locate_project_and_chapter(book: Path, tmp_path: Path) -> None:
    """From another directory, on stdin: only quarto.project.directory and quarto.doc.input_file
    can tell the filter where the report and the chapter are."""
    write_report(book, report("failed"))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    text = (book / "chapters" / "03_hardware.md").read_text(encoding="utf-8")
    done = pandoc(
        book,
        standin=True,
        cwd=elsewhere,
        stdin=text,
        env={"STANDIN_PROJECT_DIR": str(book), "STANDIN_INPUT_FILE": str(book / CHAPTER)},
    )
    assert done.returncode == LUA_ERROR_EXIT
    assert FAILURE_TEXT in done.stderr


def test_project_dir_from_environment_when_quarto_is_absent(book: Path, tmp_path: Path) -> None:
    write_report(book, report("failed"))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    done = pandoc(
        book,
        str(book / "chapters" / "03_hardware.md"),
        cwd=elsewhere,
        env={"QUARTO_PROJECT_DIR": str(book)},
    )
    assert done.returncode == LUA_ERROR_EXIT
    assert FAILURE_TEXT in done.stderr


def test_report_path_from_metadata(book: Path) -> None:
    write_report(book, report("failed"), name="build/checks.json")
    done = pandoc(
        book,
        "chapters/03_hardware.md",
        "--metadata-file",
        write_meta(book, "mlsysim:\n  report: build/checks.json\n"),
    )
    assert done.returncode == LUA_ERROR_EXIT
    assert FAILURE_TEXT in done.stderr


# --- a passing chapter, another chapter, no report: the document passes through unchanged -----


def test_passing_chapter_renders_unchanged(book: Path) -> None:
    write_report(book, report("passed"))
    done = pandoc(book, "chapters/03_hardware.md")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == plain_output(book)
    assert done.stderr == ""


def test_chapter_missing_from_report_renders_unchanged(book: Path) -> None:
    write_report(book, report("failed", path="chapters/09_other.qmd"))
    done = pandoc(book, "chapters/03_hardware.md")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == plain_output(book)


def test_absent_report_is_said_once_on_stderr(book: Path) -> None:
    done = pandoc(book, "chapters/03_hardware.md", "--metadata-file", review_meta(book))
    assert done.returncode == 0
    assert json.loads(done.stdout)["blocks"] == plain_output(book)["blocks"]
    expected = (
        f"[mlsysim] WARNING: no invariants report at {book}/.invariants/report.json; run"
        " `mlsysim check` (the pre-render hook does) to have chapters checked. Rendering"
        " without it.\n"
    )
    assert done.stderr == expected


def test_absent_report_is_said_through_quarto_log(book: Path) -> None:
    done = pandoc(
        book,
        "chapters/03_hardware.md",
        standin=True,
        env={"STANDIN_PROJECT_DIR": str(book), "STANDIN_INPUT_FILE": str(book / CHAPTER)},
    )
    assert done.returncode == 0
    assert done.stderr.count("QUARTO WARNING: no invariants report at") == 1
    assert "[mlsysim]" not in done.stderr


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("{not json", "is not valid JSON"),
        ('{"schema": "other", "version": 2}', "is not a mlsysim-invariants-report version 2"),
    ],
)
def test_unreadable_report_is_ignored_with_a_warning(book: Path, content: str, reason: str) -> None:
    (book / ".invariants" / "report.json").write_text(content, encoding="utf-8")
    done = pandoc(book, "chapters/03_hardware.md")
    assert done.returncode == 0
    assert f"the invariants report {book}/.invariants/report.json {reason}" in done.stderr


# --- (2) review builds: spans around published values, a callout of what is broken -----------


def test_review_build_annotates_instead_of_failing(book: Path) -> None:
    write_report(book, report("failed"))
    done = pandoc(book, "chapters/03_hardware.md", "--metadata-file", review_meta(book))
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""  # the `.qmd` the report was written for; every value was found
    doc = json.loads(done.stdout)
    spans = value_spans(doc)
    assert spans == [
        (
            "312 FLOP/byte",
            {
                "data-status": "shifted",
                "data-key": "ridge_str",
                "title": "mlsysim: shifted, was 295 FLOP/byte, now 312 FLOP/byte",
            },
        ),
        ("3.35 TB/s", {"data-status": "ok", "data-key": "bw_str"}),
        ("41.8 ms", {"data-status": "ok", "data-key": "decode_str"}),
        (r"$12\,\text{s}$", {"data-status": "ok", "data-key": "answer_str"}),
    ]
    # "13.35 TB/s" contains "3.35 TB/s" but is another number: not wrapped; the code cell's
    # output block "312 FLOP/byte" is code, not prose: not wrapped.
    text = json.dumps(doc)
    assert '"13.35"' in text
    callout = doc["blocks"][0]
    assert callout["t"] == "Div"
    assert callout["c"][0] == ["mlsysim-broken", ["callout-warning"], [["data-chapter", CHAPTER]]]
    title, items = callout["c"][1]
    assert title["t"] == "Header"
    assert stringify(title["c"][2]) == "mlsysim: 2 broken invariants in this chapter"
    assert [line.strip() for line in FAILURE_TEXT.splitlines()[1:3]] == [
        stringify(item[0]["c"]) for item in items["c"]
    ]


def test_review_keeps_punctuation_outside_the_span(book: Path) -> None:
    write_report(book, report("failed"))
    done = pandoc(book, "chapters/03_hardware.md", "--metadata-file", review_meta(book))
    para = next(
        b
        for b in json.loads(done.stdout)["blocks"]
        if b["t"] == "Para" and "sits at" in stringify(b["c"])
    )
    # "... sits at [312 FLOP/byte]." : the span holds Str 312, Space, Str FLOP/byte; "." follows.
    index = next(i for i, el in enumerate(para["c"]) if el["t"] == "Span")
    span = para["c"][index]
    assert span["c"][1] == [
        {"t": "Str", "c": "312"},
        {"t": "Space"},
        {"t": "Str", "c": "FLOP/byte"},
    ]
    assert para["c"][index + 1] == {"t": "Str", "c": "."}


def test_review_from_environment_and_quarto_callout(book: Path) -> None:
    write_report(book, report("failed"))
    done = pandoc(
        book,
        "chapters/03_hardware.md",
        standin=True,
        env={
            "MLSYSIM_REVIEW": "1",
            "STANDIN_PROJECT_DIR": str(book),
            "STANDIN_INPUT_FILE": str(book / CHAPTER),
        },
    )
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    callout = doc["blocks"][0]
    assert callout["c"][0] == [
        "",
        ["callout-warning"],
        [
            ["data-made-by", "quarto.Callout"],
            ["data-title", "mlsysim: 2 broken invariants in this chapter"],
        ],
    ]
    assert [s[1]["data-status"] for s in value_spans(doc)] == ["shifted", "ok", "ok", "ok"]


def test_review_of_a_draft_chapter_that_passes_has_spans_but_no_callout(book: Path) -> None:
    write_report(book, report("passed"))
    done = pandoc(book, "chapters/03_hardware.md", "-M", "draft=true")
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert [s[1]["data-status"] for s in value_spans(doc)] == ["ok", "ok", "ok", "ok"]
    assert doc["blocks"][0]["t"] == "Header"


def test_review_matches_the_old_text_of_a_frozen_value(book: Path) -> None:
    """A page still showing the snapshot's old text is marked with the entry's status too."""
    write_report(book, report("failed"))
    text = (book / "chapters" / "03_hardware.md").read_text(encoding="utf-8")
    (book / "chapters" / "03_hardware.md").write_text(
        text.replace("sits at 312 FLOP/byte", "sits at 295 FLOP/byte"), encoding="utf-8"
    )
    done = pandoc(book, "chapters/03_hardware.md", "--metadata-file", review_meta(book))
    spans = value_spans(json.loads(done.stdout))
    assert spans[0] == (
        "295 FLOP/byte",
        {
            "data-status": "shifted",
            "data-key": "ridge_str",
            "title": "mlsysim: shifted, was 295 FLOP/byte, now 312 FLOP/byte",
        },
    )


def test_html_output_carries_the_status_attributes(book: Path) -> None:
    write_report(book, report("failed"))
    done = subprocess.run(
        [
            pypandoc.get_pandoc_path(),
            "chapters/03_hardware.md",
            "-t",
            "html",
            "--wrap=none",
            "--metadata-file",
            review_meta(book),
            "-L",
            str(FILTER),
        ],
        cwd=book,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert (
        '<span class="mlsysim-value" data-status="ok" data-key="bw_str">3.35 TB/s</span>'
        in done.stdout
    )
    assert (
        'id="mlsysim-broken" class="callout-warning" data-chapter="chapters/03_hardware.qmd">'
        "\n<h2>mlsysim: 2 broken invariants in this chapter</h2>"
    ) in done.stdout


def test_findings_without_a_message_say_their_status_and_values(book: Path) -> None:
    new = {
        "key": "energy_str",
        "kind": "inline",
        "status": "new",
        "old": None,
        "new": "175 J",
        "rel_change": None,
        "line": 30,
        "message": "",
    }
    gone = {
        "key": "old_str",
        "kind": "inline",
        "status": "missing",
        "old": "3 s",
        "new": None,
        "rel_change": None,
        "line": None,
        "message": "",
    }
    tol = {
        "key": "h100_ridge",
        "kind": "golden",
        "status": "out_of_tolerance",
        "old": "295",
        "new": "312",
        "rel_change": 0.0576,
        "line": 14,
        "message": "",
    }
    write_report(book, report("failed", checks=[], golden=[new, gone, tol]))
    done = pandoc(book, "chapters/03_hardware.md")
    assert done.returncode == LUA_ERROR_EXIT
    assert (
        "  chapters/03_hardware.qmd:30: energy_str: new (new value 175 J)\n"
        "  chapters/03_hardware.qmd: old_str: missing (was 3 s)\n"
        "  chapters/03_hardware.qmd:14: h100_ridge: out of tolerance (295 → 312)\n"
    ) in done.stderr
