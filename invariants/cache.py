"""Skip a chapter when nothing it depends on changed: the result cache.

Quarto's ``freeze`` keys on the chapter text alone, so a change inside an imported library leaves
a frozen chapter stale. Here a chapter's entry (``<book>/.invariants/cache/<stem>-<hash>.json``)
holds its last run and is valid only while all of these are unchanged:

- the key: chapter text, its golden file, the kernel name and environment, the Python version
  and the runner's own source;
- every dependency the kernel reported: the file of each module in ``sys.modules`` at the end
  of the run and each data file it opened from the book or site-packages. A file is unchanged
  when its (size, mtime_ns) match, or, after a touch, when its SHA-256 still matches.

Each check ends with ``prune``: entries of chapters that no longer exist are deleted.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sys
from collections.abc import Iterable
from dataclasses import asdict
from pathlib import Path
from typing import Any

from invariants.files import write_atomic
from invariants.model import (
    ChapterRun,
    CheckOutcome,
    ExecutionError,
    InlineExpr,
    InlineValue,
    SourceLocation,
)
from invariants.protocol import CheckRecord

CACHE_VERSION = 1
_HASH_LIMIT = 4 * 1024 * 1024  # files above this are fingerprinted by (size, mtime_ns) only


class ResultCache:
    """Chapter runs stored under ``cache_dir``, validated against their dependencies. Make one
    per check of a book: it remembers each dependency's verdict for its lifetime."""

    def __init__(self, cache_dir: Path) -> None:
        self.cache_dir = Path(cache_dir)
        # Chapters share most dependencies (the stdlib, numpy, the library): judge each
        # fingerprint once per cache object, i.e. once per check of a book.
        self._verdicts: dict[tuple[Any, ...], bool] = {}

    def entry_path(self, chapter: Path) -> Path:
        where = hashlib.sha256(os.path.abspath(chapter).encode()).hexdigest()[:12]
        return self.cache_dir / f"{Path(chapter).stem}-{where}.json"

    def load(
        self,
        chapter: Path,
        text: str,
        golden: Path,
        env: dict[str, str] | None = None,
        kernel_name: str = "python3",
    ) -> ChapterRun | None:
        """The cached run of ``chapter`` (whose content is ``text``) if its key and every
        dependency still match. Needs no parsing of the chapter: a hit costs a few stats."""
        try:
            entry = json.loads(self.entry_path(chapter).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(entry, dict) or entry.get("version") != CACHE_VERSION:
            return None
        if entry.get("key") != chapter_key(text, golden, env, kernel_name):
            return None
        if not all(self._unchanged(dep) for dep in entry.get("dependencies", [])):
            return None
        try:
            return run_from_json(entry["run"], Path(chapter))
        except (KeyError, TypeError, ValueError):
            return None

    def _unchanged(self, dep: list[Any]) -> bool:
        key = tuple(dep)
        verdict = self._verdicts.get(key)
        if verdict is None:
            verdict = self._verdicts[key] = _unchanged(dep)
        return verdict

    def store(
        self,
        chapter: Path,
        text: str,
        golden: Path,
        run: ChapterRun,
        env: dict[str, str] | None = None,
        kernel_name: str = "python3",
    ) -> Path:
        """Write ``run`` atomically; its dependencies are fingerprinted now."""
        entry = {
            "version": CACHE_VERSION,
            "chapter": str(chapter),
            "key": chapter_key(text, golden, env, kernel_name),
            "dependencies": [fp for f in run.dependencies if (fp := fingerprint(f))],
            "run": run_to_json(run),
        }
        path = self.entry_path(chapter)
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        write_atomic(path, json.dumps(entry, sort_keys=True).encode("utf-8"))
        return path

    def prune(self, chapters: Iterable[Path]) -> list[Path]:
        """Delete the entries no chapter can use again and return their paths.

        ``chapters`` (the ones just checked) keep their entries unread. Any other entry is kept
        while the chapter it records still exists (a check of one chapter leaves the rest of the
        book's cache alone) and deleted when that chapter is gone (renamed, deleted, or the book
        moved), when it is unreadable, or when an older cache version wrote it. Nothing but
        ``*.json`` entries is touched.
        """
        keep = {self.entry_path(chapter).name for chapter in chapters}
        try:
            candidates = [p for p in self.cache_dir.glob("*.json") if p.name not in keep]
        except OSError:
            return []
        removed = []
        for path in candidates:
            if self._orphaned(path):
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()
                    removed.append(path)
        return removed

    def _orphaned(self, path: Path) -> bool:
        try:
            entry = json.loads(path.read_text(encoding="utf-8"))
            chapter = Path(entry["chapter"])
        except (OSError, ValueError, TypeError, KeyError):
            return True
        if entry.get("version") != CACHE_VERSION or self.entry_path(chapter).name != path.name:
            return True
        return not chapter.is_file()


def chapter_key(text: str, golden: Path, env: dict[str, str] | None, kernel_name: str) -> str:
    """SHA-256 of what every run of this chapter depends on besides imported/opened files."""
    digest = hashlib.sha256()
    runner_source = Path(__file__).with_name("runner.py")
    for part in (
        f"cache v{CACHE_VERSION}",
        sys.version,
        kernel_name,
        json.dumps(sorted((env or {}).items())),
        text,
    ):
        digest.update(part.encode("utf-8", "surrogateescape") + b"\0")
    for path in (golden, runner_source):
        try:
            digest.update(Path(path).read_bytes())
        except OSError:
            digest.update(b"<absent>")
        digest.update(b"\0")
    return digest.hexdigest()


def fingerprint(path: str) -> list[Any] | None:
    """``[path, size, mtime_ns, sha256 | None]`` of a file, or None when it is gone."""
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return [path, stat.st_size, stat.st_mtime_ns, _sha256(path, stat.st_size)]


def _unchanged(dep: list[Any]) -> bool:
    path, size, mtime_ns, sha = dep
    try:
        stat = os.stat(path)
    except OSError:
        return False
    if stat.st_size != size:
        return False
    if stat.st_mtime_ns == mtime_ns:
        return True
    return sha is not None and _sha256(path, size) == sha


def _sha256(path: str, size: int) -> str | None:
    if size > _HASH_LIMIT:
        return None
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return None


def run_to_json(run: ChapterRun) -> dict[str, Any]:
    """A ``ChapterRun`` as plain JSON data (inverse: ``run_from_json``)."""
    return {
        "cells_run": run.cells_run,
        "duration_s": run.duration_s,
        "dependencies": list(run.dependencies),
        "checks": [
            {
                "record": c.record.to_json(),
                "line": c.line,
                "cell": c.cell,
                "source": asdict(c.source) if c.source else None,
            }
            for c in run.checks
        ],
        "inline": [
            {
                "expr": asdict(v.expr),
                "text": v.text,
                "magnitude": v.magnitude,
                "unit": v.unit,
                "error": v.error,
            }
            for v in run.inline
        ],
        "errors": [asdict(e) for e in run.errors],
    }


def run_from_json(data: dict[str, Any], chapter: Path) -> ChapterRun:
    """Rebuild the ``ChapterRun`` that ``run_to_json`` wrote, for ``chapter``."""
    return ChapterRun(
        chapter=chapter,
        cells_run=data["cells_run"],
        checks=tuple(
            CheckOutcome(
                CheckRecord.from_json(c["record"]),
                c["line"],
                c["cell"],
                SourceLocation(**c["source"]) if c.get("source") else None,
            )
            for c in data["checks"]
        ),
        inline=tuple(
            InlineValue(
                expr=InlineExpr(**v["expr"]),
                text=v["text"],
                magnitude=v["magnitude"],
                unit=v["unit"],
                error=v["error"],
            )
            for v in data["inline"]
        ),
        errors=tuple(ExecutionError(**e) for e in data["errors"]),
        duration_s=data["duration_s"],
        dependencies=tuple(data["dependencies"]),
    )
