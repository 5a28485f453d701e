"""Check a book: read its chapters, run the ones the cache cannot vouch for, compare goldens.

    find_book → cache hit? ── yes ──────────────────────────────────────┐
                    └─ no → read_qmd → warm kernel pool → run_chapter ──┴→ golden compare/update
                                                                         → BookReport (JSON, JUnit)

Chapters run concurrently (``jobs`` at a time, each on its own fresh kernel). The checker writes
only inside the book: goldens (``--update``), ``.invariants/cache`` and ``.invariants/report.json``
(unless the caller names another report file).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from invariants.book import Book, find_book, package_dir, stem_clashes
from invariants.model import Chapter, ChapterRun, ExecutionError


@dataclass(frozen=True)
class ChapterEvent:
    """A chapter's progress: ``state`` is queued, running, cached, passed, failed or error."""

    path: str
    state: str
    report: Any = None


ProgressFn = Callable[[ChapterEvent], None]


def check_book(
    paths: Sequence[str | Path] = (),
    *,
    update: bool = False,
    jobs: int | None = None,
    timeout: float = 60,
    strict: bool = True,
    use_cache: bool = True,
    json_path: Path | None = None,
    junit_path: Path | None = None,
    progress: ProgressFn | None = None,
    kernel_name: str = "python3",
    cwd: Path | None = None,
) -> Any:
    """Check the book that ``paths`` name (see ``invariants.book``) and return its
    ``BookReport``. Raises ``BookError`` for a usage error (bad path, bad config)."""
    book = find_book(paths, cwd)
    return asyncio.run(
        _BookCheck(
            book,
            update=update,
            jobs=jobs or os.cpu_count() or 1,
            timeout=timeout,
            strict=strict,
            use_cache=use_cache,
            progress=progress or (lambda event: None),
            kernel_name=kernel_name,
        ).run(json_path, junit_path)
    )


class _BookCheck:
    def __init__(
        self,
        book: Book,
        *,
        update: bool,
        jobs: int,
        timeout: float,
        strict: bool,
        use_cache: bool,
        progress: ProgressFn,
        kernel_name: str,
    ) -> None:
        from invariants.cache import ResultCache
        from invariants.golden import GoldenStore
        from invariants.runner import RunOptions

        self.book = book
        self.update = update
        self.jobs = max(1, jobs)
        self.strict = strict
        self.use_cache = use_cache
        self.progress = progress
        self.store = GoldenStore(book.golden_dir)
        self.cache = ResultCache(book.cache_dir)
        roots = tuple(p for p in (book.root, package_dir("mlsysim")) if p is not None)
        self.options = RunOptions(timeout=timeout, kernel_name=kernel_name, watch_roots=roots)
        self.texts: dict[Path, str | None] = {}  # what each chapter's cache entry is keyed on

    async def run(self, json_path: Path | None, junit_path: Path | None) -> Any:
        from invariants.report import BookReport

        started = time.perf_counter()
        reports: dict[Path, Any] = {}
        pending: list[Chapter] = []
        self.texts = {path: _read_text(path) for path in self.book.chapters}
        publishing = [p for p, text in self.texts.items() if text and "{python}" in text]
        clashes = stem_clashes(publishing)
        for path in self.book.chapters:
            self._event(path, "queued")
            text = self.texts[path]
            if path in clashes:  # never let two chapters overwrite one golden file
                reports[path] = self._report(
                    path, None, cached=False, errors=[self._clash(path, clashes[path])]
                )
                continue
            cached = self._cached(path, text)
            if cached is not None:  # a hit needs no parsing: a few stats and a JSON read
                reports[path] = self._finish(path, cached, cached=True)
                continue
            chapter, failure = self._parse(path, text)
            if chapter is None:
                reports[path] = self._report(path, None, cached=False, errors=[failure])
            elif not _needs_kernel(chapter):
                reports[path] = self._finish(path, ChapterRun(path, 0), cached=False)
            else:
                pending.append(chapter)
        if pending:
            await self._run_all(pending, reports)
        report = BookReport(
            book=self.book.root,
            chapters=[reports[p] for p in self.book.chapters],
            strict=self.strict,
            wall_s=time.perf_counter() - started,
        )
        self._write(report, json_path, junit_path)
        if self.use_cache:  # entries of renamed or deleted chapters would pile up forever
            with contextlib.suppress(OSError):
                self.cache.prune(self.book.chapters)
        return report

    def _clash(self, path: Path, other: Path) -> ExecutionError:
        golden = self.book.relative(self.store.path_for(path))
        message = (
            f"{self.book.relative(path)} and {self.book.relative(other)} would share the golden "
            f"file {golden}; rename one of them"
        )
        return ExecutionError(kind="golden", message=message)

    def _parse(self, path: Path, text: str | None) -> tuple[Chapter | None, Any]:
        from invariants.qmd import QmdError, parse_qmd, read_qmd

        try:  # read_qmd again when we could not decode: it names the bad byte's line
            return (read_qmd(path) if text is None else parse_qmd(text, path)), None
        except QmdError as exc:
            return None, ExecutionError(kind="reader", message=str(exc), line=exc.line or None)

    def _cached(self, path: Path, text: str | None) -> ChapterRun | None:
        if not self.use_cache or text is None:
            return None
        golden = self.store.path_for(path)
        return self.cache.load(path, text, golden, self.options.env, self.options.kernel_name)

    async def _run_all(self, pending: list[Chapter], reports: dict[Path, Any]) -> None:
        from invariants.kernels import KernelPool, KernelStartError
        from invariants.runner import run_chapter_async

        slots = asyncio.Semaphore(self.jobs)
        pool = KernelPool(
            size=self.jobs + 1,
            demand=len(pending),
            kernel_name=self.options.kernel_name,
            cwd=self.book.root,
            env=self.options.env,
            startup_timeout=self.options.startup_timeout,
        )

        async def one(chapter: Chapter) -> None:
            async with slots:
                self._event(chapter.path, "running")
                try:
                    kernel = await pool.acquire()
                except KernelStartError as exc:
                    kind = "no_kernel" if exc.no_kernel else "kernel_died"
                    error = ExecutionError(kind=kind, message=str(exc))
                    run = ChapterRun(chapter=chapter.path, cells_run=0, errors=(error,))
                else:
                    run = await run_chapter_async(chapter, self.options, kernel)
            reports[chapter.path] = self._finish(chapter.path, run, cached=False)

        async with pool:
            await asyncio.gather(*(one(chapter) for chapter in pending))

    def _finish(self, path: Path, run: ChapterRun, *, cached: bool) -> Any:
        """Compare (or, with ``--update`` and a clean run, update) the golden; cache the run."""
        from invariants.golden import GoldenFileError

        findings: list[Any] = []
        errors: list[ExecutionError] = []
        updating = self.update and not run.errors  # a broken run never rewrites its golden
        try:
            if updating:
                findings = list(self.store.update(run))
            else:
                findings = list(self.store.compare(run, strict=self.strict))
        except (GoldenFileError, OSError) as exc:
            errors.append(ExecutionError(kind="golden", message=_golden_message(exc)))
        fresh = not cached or (updating and bool(findings))
        if self.use_cache and fresh and not run.errors and not errors:
            self._store_cache(path, run)  # after --update: keyed on the new golden
        return self._report(
            path, run, cached=cached, findings=findings, errors=errors, updated=updating
        )

    def _report(
        self,
        path: Path,
        run: ChapterRun | None,
        *,
        cached: bool,
        findings: list[Any] = (),
        errors: list[ExecutionError] = (),
        updated: bool = False,
    ) -> Any:
        from invariants.report import ChapterReport

        text = self.texts.get(path)
        report = ChapterReport(
            path=self.book.relative(path),
            run=run,
            findings=tuple(findings),
            errors=tuple(errors),
            cached=cached,
            strict=self.strict,
            updated=updated,
            publications=_publications(path, text, run),
            source_sha1=_sha1(text),
        )
        self._event(
            path, "cached" if cached and report.status == "passed" else report.status, report
        )
        return report

    def _store_cache(self, path: Path, run: ChapterRun) -> None:
        text = self.texts.get(path)
        if text is None:
            return
        golden = self.store.path_for(path)
        with contextlib.suppress(OSError):  # a read-only book is checked, just not cached
            self.cache.store(path, text, golden, run, self.options.env, self.options.kernel_name)

    def _event(self, path: Path, state: str, report: Any = None) -> None:
        self.progress(ChapterEvent(self.book.relative(path), state, report))

    def _write(self, report: Any, json_path: Path | None, junit_path: Path | None) -> None:
        target = Path(json_path) if json_path else self.book.report_path
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            report.write_json(target)
        except OSError:
            if json_path:  # the caller asked for this file: failing to write it is an error
                raise
        if junit_path:
            Path(junit_path).parent.mkdir(parents=True, exist_ok=True)
            report.write_junit(Path(junit_path))


def _read_text(path: Path) -> str | None:
    try:
        return path.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def _publications(path: Path, text: str | None, run: ChapterRun | None) -> tuple[Any, ...]:
    """Where ``run`` published each inline value of the chapter ``text`` (for review builds)."""
    from invariants.publications import publications

    if text is None or run is None or not run.inline:  # a run means the text parsed
        return ()
    return publications(text, path, run)


def _sha1(text: str | None) -> str | None:
    """The SHA-1 of the chapter file's bytes (its UTF-8 ``text``): the filter's staleness test."""
    return hashlib.sha1(text.encode("utf-8")).hexdigest() if text is not None else None


def _needs_kernel(chapter: Chapter) -> bool:
    return bool(chapter.inline) or any(cell.evaluate for cell in chapter.cells)


def _golden_message(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.filename:
        return f"cannot write golden file {exc.filename}: {exc.strerror or exc}"
    return str(exc)
