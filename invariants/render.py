"""A :class:`~invariants.report.BookReport` for people and CI: the console summary and JUnit XML.

Console: a compact table (fits 80 columns) of each chapter's status, cells, what held and what
broke, and its run time (``cached`` for a chapter taken from the cache; the footer gives the
check's wall time: chapters run concurrently), then the first failures in full (each failing
chapter's first one before the rest, follow-on errors last) and a verdict. JUnit: one ``testcase``
per chapter (``time`` 0 for a cached one) whose ``failure``/``error`` text lists each problem as
``chapter:line: ...``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from invariants.model import GoldenFinding
from invariants.report import FOLLOW_ON_RANK, BookReport, ChapterReport
from invariants.report_schema import SUMMARY_KEYS

_XML_INVALID = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def junit_xml(report: BookReport) -> bytes:
    """JUnit XML bytes: a ``testsuite`` of one ``testcase`` per chapter."""
    import xml.etree.ElementTree as ET

    name = Path(report.book).name or str(report.book)
    chapters = report.chapters
    counts = {
        "tests": str(len(chapters)),
        "failures": str(sum(c.status == "failed" for c in chapters)),
        "errors": str(sum(c.status == "error" for c in chapters)),
        "skipped": "0",
        "time": f"{sum(_seconds(c) for c in chapters):.3f}",
    }
    suites = ET.Element("testsuites", name="mlsysim check", **counts)
    suite = ET.SubElement(suites, "testsuite", name=name, **counts)
    for chapter in chapters:
        case = ET.SubElement(
            suite, "testcase", classname=f"invariants.{name}", name=chapter.path,
            file=chapter.path, time=f"{_seconds(chapter):.3f}",
        )  # fmt: skip
        failures = chapter.failures()
        for tag, group in (
            ("error", [f for f in failures if f.is_error]),
            ("failure", [f for f in failures if not f.is_error]),
        ):
            if group:
                element = ET.SubElement(
                    case, tag, message=_xml_text(f"{group[0].location}: {group[0].headline}"),
                    type=f"invariants.{tag}",
                )  # fmt: skip
                element.text = _xml_text("\n".join(f.render() for f in group))
        if chapter.cached:
            ET.SubElement(case, "system-out").text = "result from the cache (nothing changed)"
    ET.indent(suites)
    return ET.tostring(suites, encoding="utf-8", xml_declaration=True) + b"\n"


def change_text(finding: GoldenFinding, width: int = 0) -> str:
    """One golden change as ``--update`` and ``--force-regen`` print it:
    ``updated inline 'ridge_str': 295 FLOP/byte → 591 FLOP/byte`` (``∅`` for no value; the
    status right-aligned in ``width`` columns)."""
    old = finding.old if finding.old is not None else "∅"
    new = finding.new if finding.new is not None else "∅"
    return f"{finding.status:>{width}} {finding.kind} {finding.key!r}: {old} → {new}"


def _seconds(chapter: ChapterReport) -> float:
    """What the chapter cost this check: its run time, 0 when it came from the cache."""
    return chapter.run.duration_s if chapter.run and not chapter.cached else 0.0


def _xml_text(text: str) -> str:
    from invariants.runner import strip_ansi

    return _XML_INVALID.sub("", strip_ansi(text))


# --- console ----------------------------------------------------------------------------------

_STATUS_STYLE = {"passed": "green", "failed": "bold red", "error": "bold magenta"}


def render_console(report: BookReport, console: Any, max_failures: int) -> None:
    """A compact table (fits 80 columns): status, chapter, cells, what held and what broke,
    run time or ``cached``; a totals footer; the first failures; the verdict."""
    from rich import box
    from rich.table import Table
    from rich.text import Text

    total = _tally(report.chapters)
    table = Table(
        title=f"mlsysim check: {report.book}", title_justify="left", box=box.SIMPLE_HEAD,
        show_footer=True, pad_edge=False,
    )  # fmt: skip
    table.add_column("Status", footer=_verdict_word(report.exit_code), no_wrap=True)
    chapters = _count(total["chapters"], "chapter", "chapters") or "0 chapters"
    if total["cached"]:
        chapters += f" ({total['cached']} cached)"
    table.add_column("Chapter", footer=chapters, no_wrap=True)
    table.add_column("Cells", footer=str(total["cells"]), justify="right")
    table.add_column("Findings", footer=_findings_text(total))
    table.add_column("Time", footer=_total_time(report), justify="right", no_wrap=True)
    for chapter in report.chapters:
        counts = _tally([chapter])
        table.add_row(
            Text(chapter.status, style=_STATUS_STYLE[chapter.status]),
            Text(chapter.path),
            str(counts["cells"]),
            Text(_findings_text(counts)),
            "cached" if chapter.cached else f"{chapter.run.duration_s if chapter.run else 0:.1f} s",
        )
    console.print(table)

    failures = report.failures()
    if failures and max_failures > 0:
        shown = failures[:max_failures]
        follow_on = _count(sum(f.rank == FOLLOW_ON_RANK for f in failures), "follow-on error",
                           "follow-on errors")  # fmt: skip
        later = f"; {follow_on} last" if follow_on else ""
        heading = f"First failures ({len(shown)} of {len(failures)}{later}):"
        console.print(Text(heading, style="bold"))
        for failure in shown:  # soft wrap: a long line stays one line (copyable locations)
            console.print(Text(failure.render()), soft_wrap=True)
        if len(failures) > len(shown):
            console.print(Text(f"... and {len(failures) - len(shown)} more in the JSON report."))
    verdict = Text(_verdict(report, total), style=_STATUS_STYLE[_verdict_status(report.exit_code)])
    console.print(verdict)


def _total_time(report: BookReport) -> str:
    """The footer's time: the check's wall time (less than the rows' sum: chapters run
    concurrently), or the sum of the chapters that ran when the wall time is unknown."""
    seconds = report.wall_s
    if seconds is None:
        seconds = sum(_seconds(c) for c in report.chapters)
    return f"{seconds:.1f} s"


def _tally(chapters: list[ChapterReport]) -> dict[str, int]:
    """The summary counts plus ``held`` (ok findings), ``updated``/``removed`` (from
    ``--update``) and ``pending_new``/``pending_missing`` (new/missing not just written)."""
    extra = ("held", "updated", "removed", "pending_new", "pending_missing")
    total = dict.fromkeys((*SUMMARY_KEYS, *extra), 0)
    for chapter in chapters:
        for key, value in chapter.counts().items():
            total[key] += value
        statuses = [f.status for f in chapter.findings]
        total["held"] += statuses.count("ok")
        total["updated"] += statuses.count("updated")
        total["removed"] += statuses.count("removed")
        if not chapter.updated:
            total["pending_new"] += statuses.count("new")
            total["pending_missing"] += statuses.count("missing")
    return total


def _findings_text(counts: dict[str, int]) -> str:
    """``"13 checks ✓, 1 check ✗, 30 values ✓, 1 shift"``: what held, then what broke."""
    parts = [
        _count(counts["checks_passed"], "check ✓", "checks ✓"),
        _count(counts["checks_failed"], "check ✗", "checks ✗"),
        _count(counts["held"], "value ✓", "values ✓"),
        _count(counts["shifts"], "shift", "shifts"),
        _count(counts["new"], "new", "new"),
        _count(counts["updated"], "updated", "updated"),
        _count(counts["removed"], "removed", "removed"),
        _count(counts["missing"], "missing", "missing"),
        _count(counts["errors"], "error", "errors"),
    ]
    return ", ".join(part for part in parts if part) or "nothing to check"


def _verdict_status(exit_code: int) -> str:
    return ("passed", "failed", "error")[exit_code]


def _verdict_word(exit_code: int) -> str:
    return ("OK", "FAILED", "ERROR")[exit_code]


def _verdict(report: BookReport, total: dict[str, int]) -> str:
    written = sum(len(c.findings) for c in report.chapters if c.updated)
    pending = [
        _count(total["pending_new"], "new", "new"),
        _count(total["pending_missing"], "missing", "missing"),
    ]
    pending = [p for p in pending if p]
    if report.exit_code == 0:
        n = total["chapters"]
        line = f"OK: all {n} chapters hold." if n > 1 else "OK: the chapter holds." if n else (
            "OK: no chapters to check."
        )  # fmt: skip
        if written:
            line += f" Goldens updated ({_count(written, 'change', 'changes')})."
        if pending:
            line += f" Not in the snapshot: {', '.join(pending)} (record them with --update)."
        return line
    parts = [
        _count(total["checks_failed"], "check failed", "checks failed"),
        _count(total["shifts"], "golden shift", "golden shifts"),
        _count(total["pending_new"], "new value", "new values") if report.strict else "",
        _count(total["pending_missing"], "missing value", "missing values")
        if report.strict
        else "",
        _count(total["errors"], "error", "errors"),
    ]
    word = _verdict_word(report.exit_code)
    return f"{word} (exit {report.exit_code}): {', '.join(p for p in parts if p)}."


def _count(n: int, singular: str, plural: str) -> str:
    return "" if n == 0 else f"{n} {singular if n == 1 else plural}"
