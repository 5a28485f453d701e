"""What a check found, per chapter and for the book, and its JSON form (``report_schema``).

Status of a chapter: ``error`` when something stopped it (reader, kernel, exception, golden
file); else ``failed`` when a check failed or a golden shifted / left its tolerance / changed unit
(or, under ``strict``, a value is new or missing); else ``passed``. Exit code: 2 if any chapter
errored, else 1 if any failed, else 0. The console summary and JUnit XML are in
``invariants.render``.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from invariants.model import (
    ChapterRun,
    CheckOutcome,
    ExecutionError,
    GoldenFinding,
    Publication,
)
from invariants.report_schema import REPORT_SCHEMA_ID, REPORT_VERSION, SUMMARY_KEYS

STRICT_STATUSES = ("new", "missing")
FOLLOW_ON_RANK = 3  # a NameError after an earlier failed cell: shown after every root cause


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
    (then ``new``/``removed`` are records of what was written, never failures).
    ``publications``: where each inline value was published (``invariants.publications``);
    ``source_sha1``: the SHA-1 of the chapter file that was checked (None when unreadable)."""

    path: str
    run: ChapterRun | None
    findings: tuple[GoldenFinding, ...] = ()
    errors: tuple[ExecutionError, ...] = ()
    cached: bool = False
    strict: bool = False
    updated: bool = False
    publications: tuple[Publication, ...] = ()
    source_sha1: str | None = None

    def __post_init__(self) -> None:
        self.findings = tuple(self.findings)
        self.errors = tuple(self.errors)
        self.publications = tuple(self.publications)

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
            "source_sha1": self.source_sha1,
            "publications": [_publication_json(p) for p in self.publications],
        }


@dataclass
class BookReport:
    """All chapters of one check of a book; ``strict`` makes new/missing values fail.
    ``wall_s``: the check's wall time (s; chapters run concurrently, so it is less than the sum
    of their ``duration_s``), None when unknown."""

    book: Path
    chapters: list[ChapterReport] = field(default_factory=list)
    strict: bool = False
    wall_s: float | None = None

    def __post_init__(self) -> None:
        self.chapters = list(self.chapters)
        for chapter in self.chapters:
            chapter.strict = self.strict

    @property
    def summary(self) -> dict[str, int]:
        total = dict.fromkeys(SUMMARY_KEYS, 0)
        for chapter in self.chapters:
            for key, value in chapter.counts().items():
                total[key] += value
        return total

    @property
    def exit_code(self) -> int:
        statuses = {chapter.status for chapter in self.chapters}
        return 2 if "error" in statuses else 1 if "failed" in statuses else 0

    def failures(self) -> list[Failure]:
        """Every chapter's failures: first each failing chapter's most severe one (so a second
        broken chapter is never hidden behind the first one's), then the rest; most severe first
        (errors, broken checks and shifts, new/missing values, follow-on errors), in chapter and
        line order within each rank."""
        failures = [failure for chapter in self.chapters for failure in chapter.failures()]
        ranked = sorted(failures, key=lambda failure: failure.rank)
        leads: dict[str, Failure] = {}
        for failure in ranked:
            leads.setdefault(failure.chapter, failure)
        shown = {id(failure) for failure in leads.values()}
        return [*leads.values(), *(f for f in ranked if id(f) not in shown)]

    def to_json(self) -> dict[str, Any]:
        exit_code = self.exit_code
        return {
            "schema": REPORT_SCHEMA_ID,
            "version": REPORT_VERSION,
            "generated_by": f"mlsysim {_version()}",
            "book": os.path.abspath(self.book),
            "ok": exit_code == 0,
            "exit_code": exit_code,
            "wall_s": round(self.wall_s, 3) if self.wall_s is not None else None,
            "summary": self.summary,
            "chapters": [chapter.to_json() for chapter in self.chapters],
        }

    def write_json(self, path: Path) -> None:
        """Write :meth:`to_json` (indent 2, UTF-8) atomically: temp file + ``os.replace``."""
        from invariants.files import write_atomic

        text = json.dumps(self.to_json(), indent=2, ensure_ascii=False, allow_nan=False)
        write_atomic(Path(path), (text + "\n").encode("utf-8"))

    def write_junit(self, path: Path) -> None:
        """JUnit XML: one ``testcase`` per chapter; ``failure``/``error`` text lists each
        problem as ``chapter:line: ...``."""
        from invariants.files import write_atomic
        from invariants.render import junit_xml

        write_atomic(Path(path), junit_xml(self))

    def render_console(self, console: Any, max_failures: int = 5) -> None:
        """The summary table, then the first ``max_failures`` failures in full, then a verdict."""
        from invariants.render import render_console

        render_console(self, console, max_failures)


# --- pieces shared by every output -----------------------------------------------------------


def _check_failure(chapter: str, outcome: CheckOutcome) -> Failure:
    record = outcome.record
    name = f" [{record.name}]" if record.name else ""
    details = [f"{label} = {_value_text(v.text, v.magnitude, v.unit)}"
               for label, v in record.values.items()]  # fmt: skip
    if outcome.cell:
        details.append(f"in cell {outcome.cell}")
    written = f" (in {outcome.source})" if outcome.source else ""  # a helper module's line
    headline = f"check failed{name}: {record.message}{written}"
    return Failure(chapter, outcome.line, headline, tuple(details))


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
    headline = f"{kind}{where}: {error.message}"
    if error.follows is not None:  # its traceback only repeats the NameError: say what to fix
        details = (f"follow-on of the failure at {chapter}:{error.follows}: fix that first",)
        return Failure(chapter, error.line, headline, details, is_error=True, rank=FOLLOW_ON_RANK)
    details = tuple(_clean(error.traceback).splitlines()) if error.traceback else ()
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
        "source": asdict(outcome.source) if outcome.source else None,
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


def _publication_json(publication: Publication) -> dict[str, Any]:
    data = asdict(publication)
    data["before"], data["after"] = list(publication.before), list(publication.after)
    return data


def _error_json(error: ExecutionError) -> dict[str, Any]:
    return {
        "kind": error.kind,
        "message": _clean(error.message),
        "line": error.line,
        "cell": error.cell,
        "traceback": _clean(error.traceback),
        "follows": error.follows,
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
