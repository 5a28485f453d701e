"""What a check found, per chapter and for the book: JSON (``REPORT_SCHEMA``), JUnit XML, console.

Status of a chapter: ``error`` when something stopped it (reader, kernel, exception, golden
file); else ``failed`` when a check failed or a golden shifted / left its tolerance / changed unit
(or, under ``strict``, a value is new or missing); else ``passed``. Exit code: 2 if any chapter
errored, else 1 if any failed, else 0.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from invariants.model import ChapterRun, CheckOutcome, ExecutionError, GoldenFinding

REPORT_SCHEMA_ID = "mlsysim-invariants-report"
REPORT_VERSION = 1
STRICT_STATUSES = ("new", "missing")
_SUMMARY_KEYS = (
    "chapters", "cells", "checks_passed", "checks_failed", "shifts", "new", "missing", "errors",
    "cached",
)  # fmt: skip

_NULLABLE_INT = {"type": ["integer", "null"]}
_NULLABLE_STR = {"type": ["string", "null"]}
REPORT_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": REPORT_SCHEMA_ID,
    "type": "object",
    "required": ["schema", "version", "generated_by", "book", "ok", "exit_code", "summary",
                 "chapters"],
    "additionalProperties": False,
    "properties": {
        "schema": {"const": REPORT_SCHEMA_ID},
        "version": {"const": REPORT_VERSION},
        "generated_by": {"type": "string"},
        "book": {"type": "string", "description": "absolute path of the book root"},
        "ok": {"type": "boolean", "description": "exit_code == 0"},
        "exit_code": {"enum": [0, 1, 2]},
        "summary": {
            "type": "object",
            "required": list(_SUMMARY_KEYS),
            "additionalProperties": False,
            "properties": {key: {"type": "integer", "minimum": 0} for key in _SUMMARY_KEYS},
        },
        "chapters": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["path", "status", "cached", "duration_s", "cells", "checks",
                             "golden", "errors"],
                "additionalProperties": False,
                "properties": {
                    "path": {"type": "string", "description": "relative to the book, POSIX"},
                    "status": {"enum": ["passed", "failed", "error"]},
                    "cached": {"type": "boolean"},
                    "duration_s": {"type": "number", "minimum": 0},
                    "cells": {"type": "integer", "minimum": 0},
                    "checks": {"type": "array", "items": {
                        "type": "object",
                        "required": ["kind", "name", "message", "passed", "line", "cell",
                                     "values"],
                        "additionalProperties": False,
                        "properties": {
                            "kind": {"enum": ["check", "golden"]},
                            "name": _NULLABLE_STR,
                            "message": {"type": "string"},
                            "passed": {"type": "boolean"},
                            "line": _NULLABLE_INT,
                            "cell": _NULLABLE_STR,
                            "values": {"type": "object", "additionalProperties": {
                                "type": "object",
                                "required": ["magnitude", "unit", "text"],
                                "properties": {
                                    "magnitude": {"type": ["number", "array", "null"],
                                                  "items": {"type": "number"}},
                                    "unit": _NULLABLE_STR,
                                    "text": {"type": "string"},
                                },
                            }},
                        },
                    }},
                    "golden": {"type": "array", "items": {
                        "type": "object",
                        "required": ["key", "kind", "status", "old", "new", "rel_change", "line",
                                     "message"],
                        "additionalProperties": False,
                        "properties": {
                            "key": {"type": "string"},
                            "kind": {"enum": ["inline", "golden"]},
                            "status": {"enum": ["ok", "shifted", "out_of_tolerance", "new",
                                                "missing", "unit_error", "updated", "removed"]},
                            "old": _NULLABLE_STR,
                            "new": _NULLABLE_STR,
                            "rel_change": {"type": ["number", "null"]},
                            "line": _NULLABLE_INT,
                            "message": {"type": "string"},
                        },
                    }},
                    "errors": {"type": "array", "items": {
                        "type": "object",
                        "required": ["kind", "message", "line", "cell", "traceback"],
                        "additionalProperties": False,
                        "properties": {
                            "kind": {"enum": ["exception", "timeout", "kernel_died", "no_kernel",
                                              "reader", "golden"]},
                            "message": {"type": "string"},
                            "line": _NULLABLE_INT,
                            "cell": _NULLABLE_STR,
                            "traceback": {"type": "string"},
                        },
                    }},
                },
            },
        },
    },
}  # fmt: skip


@dataclass(frozen=True)
class Failure:
    """One thing to show an author: where (``chapter:line``), what, and the evidence lines."""

    chapter: str
    line: int | None
    headline: str
    details: tuple[str, ...] = ()
    is_error: bool = False
    rank: int = 1  # 0 errors, 1 failed checks and shifts, 2 new/missing under strict

    @property
    def location(self) -> str:
        return f"{self.chapter}:{self.line}" if self.line else self.chapter

    def render(self) -> str:
        return "\n".join([f"{self.location}: {self.headline}", *(f"    {d}" for d in self.details)])


@dataclass
class ChapterReport:
    """One chapter's outcome. ``errors`` are the checker's own (reader, golden file); the run's
    errors are in ``run.errors``. ``updated``: the findings come from ``GoldenStore.update``
    (then ``new``/``removed`` are records of what was written, never failures)."""

    path: str
    run: ChapterRun | None
    findings: tuple[GoldenFinding, ...] = ()
    errors: tuple[ExecutionError, ...] = ()
    cached: bool = False
    strict: bool = False
    updated: bool = False

    def __post_init__(self) -> None:
        self.findings = tuple(self.findings)
        self.errors = tuple(self.errors)

    @property
    def all_errors(self) -> tuple[ExecutionError, ...]:
        return (self.run.errors if self.run else ()) + self.errors

    @property
    def checks(self) -> tuple[CheckOutcome, ...]:
        return self.run.checks if self.run else ()

    @property
    def failed_checks(self) -> tuple[CheckOutcome, ...]:
        return tuple(c for c in self.checks if c.record.kind == "check" and not c.record.passed)

    def finding_fails(self, finding: GoldenFinding) -> bool:
        strict_fail = self.strict and not self.updated and finding.status in STRICT_STATUSES
        return finding.failed or strict_fail

    @property
    def failing_findings(self) -> tuple[GoldenFinding, ...]:
        return tuple(f for f in self.findings if self.finding_fails(f))

    @property
    def status(self) -> str:
        if self.run is None or self.all_errors:
            return "error"
        if self.failed_checks or self.failing_findings:
            return "failed"
        return "passed"

    def counts(self) -> dict[str, int]:
        """This chapter's contribution to the book summary (same keys)."""
        checks = [c for c in self.checks if c.record.kind == "check"]
        statuses = [f.status for f in self.findings]
        return {
            "chapters": 1,
            "cells": self.run.cells_run if self.run else 0,
            "checks_passed": sum(c.record.passed for c in checks),
            "checks_failed": sum(not c.record.passed for c in checks),
            "shifts": sum(f.failed for f in self.findings),
            "new": statuses.count("new"),
            "missing": statuses.count("missing"),
            "errors": len(self.all_errors),
            "cached": int(self.cached),
        }

    def failures(self) -> list[Failure]:
        """Errors first, then failed checks and failing goldens in ``.qmd`` line order."""
        errors = [_error_failure(self.path, e) for e in self.all_errors]
        checks = [_check_failure(self.path, c) for c in self.failed_checks]
        goldens = [_finding_failure(self.path, f, strict_only=not f.failed)
                   for f in self.failing_findings]  # fmt: skip
        return errors + sorted(checks + goldens, key=lambda f: (f.line is None, f.line or 0))

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "status": self.status,
            "cached": self.cached,
            "duration_s": round(self.run.duration_s, 3) if self.run else 0.0,
            "cells": self.run.cells_run if self.run else 0,
            "checks": [_check_json(c) for c in self.checks],
            "golden": [_finding_json(f) for f in self.findings],
            "errors": [_error_json(e) for e in self.all_errors],
        }


@dataclass
class BookReport:
    """All chapters of one check of a book; ``strict`` makes new/missing values fail."""

    book: Path
    chapters: list[ChapterReport] = field(default_factory=list)
    strict: bool = False

    def __post_init__(self) -> None:
        self.chapters = list(self.chapters)
        for chapter in self.chapters:
            chapter.strict = self.strict

    @property
    def summary(self) -> dict[str, int]:
        total = dict.fromkeys(_SUMMARY_KEYS, 0)
        for chapter in self.chapters:
            for key, value in chapter.counts().items():
                total[key] += value
        return total

    @property
    def exit_code(self) -> int:
        statuses = {chapter.status for chapter in self.chapters}
        return 2 if "error" in statuses else 1 if "failed" in statuses else 0

    def failures(self) -> list[Failure]:
        """Every chapter's failures, most severe first (errors, then broken checks and shifts,
        then new/missing values), in chapter and line order within each rank."""
        failures = [failure for chapter in self.chapters for failure in chapter.failures()]
        return sorted(failures, key=lambda failure: failure.rank)

    def to_json(self) -> dict[str, Any]:
        exit_code = self.exit_code
        return {
            "schema": REPORT_SCHEMA_ID,
            "version": REPORT_VERSION,
            "generated_by": f"mlsysim {_version()}",
            "book": os.path.abspath(self.book),
            "ok": exit_code == 0,
            "exit_code": exit_code,
            "summary": self.summary,
            "chapters": [chapter.to_json() for chapter in self.chapters],
        }

    def write_json(self, path: Path) -> None:
        """Write :meth:`to_json` (indent 2, UTF-8) atomically: temp file + ``os.replace``."""
        from invariants.golden import write_atomic

        text = json.dumps(self.to_json(), indent=2, ensure_ascii=False, allow_nan=False)
        write_atomic(Path(path), (text + "\n").encode("utf-8"))

    def write_junit(self, path: Path) -> None:
        """JUnit XML: one ``testcase`` per chapter; ``failure``/``error`` text lists each
        problem as ``chapter:line: ...``."""
        from invariants.golden import write_atomic

        write_atomic(Path(path), _junit_xml(self))

    def render_console(self, console: Any, max_failures: int = 5) -> None:
        """The summary table, then the first ``max_failures`` failures in full, then a verdict."""
        _render_console(self, console, max_failures)


# --- pieces shared by every output -----------------------------------------------------------


def _check_failure(chapter: str, outcome: CheckOutcome) -> Failure:
    record = outcome.record
    name = f" [{record.name}]" if record.name else ""
    details = [f"{label} = {_value_text(v.text, v.magnitude, v.unit)}"
               for label, v in record.values.items()]  # fmt: skip
    if outcome.cell:
        details.append(f"in cell {outcome.cell}")
    return Failure(chapter, outcome.line, f"check failed{name}: {record.message}", tuple(details))


def _finding_failure(chapter: str, finding: GoldenFinding, strict_only: bool = False) -> Failure:
    what = f"inline `{{python}} {finding.key}`" if finding.kind == "inline" else (
        f"check.golden({finding.key!r})"
    )  # fmt: skip
    status = finding.status.replace("_", " ")
    details = [finding.message] if finding.message else []
    rank = 2 if strict_only else 1
    return Failure(chapter, finding.line, f"{status}: {what}", tuple(details), rank=rank)


def _error_failure(chapter: str, error: ExecutionError) -> Failure:
    where = f" in cell {error.cell}" if error.cell else ""
    kind = error.kind.replace("_", " ")
    details = tuple(_clean(error.traceback).splitlines()) if error.traceback else ()
    headline = f"{kind}{where}: {error.message}"
    return Failure(chapter, error.line, headline, details, is_error=True, rank=0)


def _value_text(text: str, magnitude: Any, unit: str | None) -> str:
    if magnitude is None:
        return text
    raw = f"{magnitude} {unit}" if unit else f"{magnitude}"
    return text if raw == text else f"{text} ({raw})"


def _check_json(outcome: CheckOutcome) -> dict[str, Any]:
    record = outcome.record
    return {
        "kind": record.kind,
        "name": record.name,
        "message": record.message,
        "passed": record.passed,
        "line": outcome.line,
        "cell": outcome.cell,
        "values": {
            label: {"magnitude": v.magnitude, "unit": v.unit, "text": v.text}
            for label, v in record.values.items()
        },
    }


def _finding_json(finding: GoldenFinding) -> dict[str, Any]:
    return {
        "key": finding.key,
        "kind": finding.kind,
        "status": finding.status,
        "old": finding.old,
        "new": finding.new,
        "rel_change": finding.rel_change,
        "line": finding.line,
        "message": finding.message,
    }


def _error_json(error: ExecutionError) -> dict[str, Any]:
    return {
        "kind": error.kind,
        "message": _clean(error.message),
        "line": error.line,
        "cell": error.cell,
        "traceback": _clean(error.traceback),
    }


def _clean(text: str) -> str:
    from invariants.runner import strip_ansi

    return strip_ansi(text)


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("mlsysim")
    except PackageNotFoundError:
        from invariants import __version__

        return __version__


# --- JUnit XML --------------------------------------------------------------------------------

_XML_INVALID = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _junit_xml(report: BookReport) -> bytes:
    import xml.etree.ElementTree as ET

    name = Path(report.book).name or str(report.book)
    chapters = report.chapters
    counts = {
        "tests": str(len(chapters)),
        "failures": str(sum(c.status == "failed" for c in chapters)),
        "errors": str(sum(c.status == "error" for c in chapters)),
        "skipped": "0",
        "time": f"{sum(c.run.duration_s for c in chapters if c.run):.3f}",
    }
    suites = ET.Element("testsuites", name="mlsysim check", **counts)
    suite = ET.SubElement(suites, "testsuite", name=name, **counts)
    for chapter in chapters:
        seconds = chapter.run.duration_s if chapter.run else 0.0
        case = ET.SubElement(
            suite, "testcase", classname=f"invariants.{name}", name=chapter.path,
            file=chapter.path, time=f"{seconds:.3f}",
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


def _xml_text(text: str) -> str:
    return _XML_INVALID.sub("", _clean(text))


# --- console ----------------------------------------------------------------------------------

_STATUS_STYLE = {"passed": "green", "failed": "bold red", "error": "bold magenta"}


def _render_console(report: BookReport, console: Any, max_failures: int) -> None:
    """A compact table (fits 80 columns): status, chapter, cells, what held and what broke,
    run time or ``cached``; a totals footer; the first failures; the verdict."""
    from rich import box
    from rich.table import Table
    from rich.text import Text

    total = _tally(report.chapters)
    seconds = sum(c.run.duration_s for c in report.chapters if c.run)
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
    table.add_column("Time", footer=f"{seconds:.1f} s", justify="right", no_wrap=True)
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
        console.print(Text(f"First failures ({len(shown)} of {len(failures)}):", style="bold"))
        for failure in shown:  # soft wrap: a long line stays one line (copyable locations)
            console.print(Text(failure.render()), soft_wrap=True)
        if len(failures) > len(shown):
            console.print(Text(f"... and {len(failures) - len(shown)} more in the JSON report."))
    verdict = Text(_verdict(report, total), style=_STATUS_STYLE[_verdict_status(report.exit_code)])
    console.print(verdict)


def _tally(chapters: list[ChapterReport]) -> dict[str, int]:
    """The summary counts plus ``held`` (ok findings), ``updated``/``removed`` (from
    ``--update``) and ``pending_new``/``pending_missing`` (new/missing not just written)."""
    extra = ("held", "updated", "removed", "pending_new", "pending_missing")
    total = dict.fromkeys((*_SUMMARY_KEYS, *extra), 0)
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
