"""pytest plugin (entry point ``pytest11`` = ``invariants.plugin``): each chapter is a test item.

``pytest --invariants BOOK_DIR`` collects the book's chapters (``_quarto.yml`` order); with the
ini option ``invariants_collect_qmd = true`` every ``.qmd`` pytest walks over is collected too.
An item runs its chapter through ``invariants.runner.run_chapter`` (no pytest in the runner),
compares its numbers with ``golden/<stem>.yml`` via :class:`~invariants.golden.GoldenStore`
and fails with one section per failed check, shift or error at its ``.qmd`` line. Goldens follow
pytest-regressions: a missing file is created and the test fails; ``--force-regen`` rewrites a
differing golden and fails; ``--regen-all`` rewrites every golden and lets the item pass.
Importing this module stays cheap: every pytest run in the environment loads it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from _pytest._code.code import ReprFileLocation, TerminalRepr

_BOOK_CHAPTERS = pytest.StashKey[dict[Path, Any]]()
_GOLDEN_OWNERS = pytest.StashKey[dict[tuple[Path, str], Path]]()
_STRICT = pytest.StashKey[bool]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("invariants", "check a Quarto book's computed numbers")
    group.addoption(
        "--invariants",
        action="store",
        dest="invariants_book",
        default=None,
        metavar="BOOK_DIR",
        help="Run every chapter of the Quarto book in BOOK_DIR (or one .qmd chapter) as a test "
        "item.",
    )
    group.addoption(
        "--invariants-timeout",
        action="store",
        dest="invariants_timeout",
        type=float,
        default=None,
        metavar="S",
        help="Seconds a cell may run before it is interrupted (ini invariants_timeout, 60).",
    )
    group.addoption(
        "--invariants-strict",
        action="store_true",
        dest="invariants_strict",
        default=None,
        help="Fail on values new since the snapshot or missing from it (ini invariants_strict; "
        "on by default when the CI environment variable is set).",
    )
    parser.addini("invariants_collect_qmd", "Collect .qmd files as chapters.", type="bool",
                  default=False)  # fmt: skip
    parser.addini("invariants_timeout", "Seconds per cell (default 60).", default="60")
    parser.addini("invariants_strict", "Fail on new/missing values (true/false; default: $CI).",
                  default="")  # fmt: skip
    parser.addini("invariants_kernel", "Jupyter kernel name.", default="python3")


def pytest_configure(config: pytest.Config) -> None:
    """With ``--invariants BOOK_DIR``, add the book's chapters to what pytest collects (instead
    of ``testpaths`` when no paths were given)."""
    config.stash[_BOOK_CHAPTERS] = {}
    config.stash[_GOLDEN_OWNERS] = {}
    config.stash[_STRICT] = _strict(config)  # a typo in the ini option stops the run here
    raw = config.getoption("invariants_book", default=None)
    if raw is None:
        return
    from invariants.book import BookError, find_book

    try:
        book = find_book([raw], cwd=config.invocation_params.dir)
    except BookError as exc:
        raise pytest.UsageError(f"--invariants: {exc}") from exc
    config.stash[_BOOK_CHAPTERS] = dict.fromkeys(book.chapters, book)
    chapters = [str(chapter) for chapter in book.chapters]
    if config.args_source != pytest.Config.ArgsSource.ARGS:
        config.args[:] = chapters
    else:
        config.args.extend(c for c in chapters if c not in config.args)


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    book = parent.config.stash.get(_BOOK_CHAPTERS, {}).get(Path(os.path.abspath(file_path)))
    if book is not None:
        return ChapterFile.from_parent(parent, path=file_path, book=book)
    if (
        file_path.suffix.lower() == ".qmd"
        and not file_path.name.startswith("_")
        and parent.config.getini("invariants_collect_qmd")
    ):
        return ChapterFile.from_parent(parent, path=file_path, book=None)
    return None


class ChapterFile(pytest.File):
    """A ``.qmd`` chapter; it yields one :class:`ChapterItem`."""

    def __init__(self, *, book: Any = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.book = book

    def collect(self) -> list[pytest.Item]:
        book = self.book
        if book is None:
            from invariants.book import BookError, find_book

            try:
                book = find_book([self.path])
            except BookError as exc:
                raise self.CollectError(str(exc)) from exc
        golden = (book.golden_dir, self.path.stem)
        other = self.config.stash[_GOLDEN_OWNERS].setdefault(golden, self.path)
        if other != self.path:
            raise self.CollectError(
                f"{other} and {self.path} share the name {self.path.stem!r}: their golden files "
                f"would collide in {book.golden_dir}; rename one"
            )
        return [ChapterItem.from_parent(self, name=self.path.stem, book=book)]


class ChapterFailed(Exception):
    """Carries the chapter's failures (and golden notes) to :meth:`ChapterItem.repr_failure`."""

    def __init__(self, failures: list[Any], notes: list[str]):
        super().__init__(failures, notes)
        self.failures = failures
        self.notes = notes


class ChapterItem(pytest.Item):
    """Runs one chapter; fails with its failed checks, golden shifts and errors."""

    def __init__(self, *, book: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.book = book
        self.chapter_path = self.book.relative(self.path)

    def runtest(self) -> None:
        from invariants import runner
        from invariants.golden import GoldenFileError, GoldenStore
        from invariants.model import ChapterRun, ExecutionError
        from invariants.qmd import QmdError, read_qmd
        from invariants.report import ChapterReport

        config = self.config
        strict = config.stash[_STRICT]
        try:
            chapter = read_qmd(self.path)
        except QmdError as exc:
            error = ExecutionError(kind="reader", message=str(exc), line=exc.line or None)
            run = ChapterRun(chapter=self.path, cells_run=0, errors=(error,))
        else:
            options = runner.RunOptions(
                timeout=_timeout(config), kernel_name=config.getini("invariants_kernel")
            )
            run = runner.run_chapter(chapter, options)
        report = ChapterReport(path=self.chapter_path, run=run, strict=strict)
        notes: list[str] = []
        try:
            report.findings, notes = _golden(GoldenStore(self.book.golden_dir), run, config,
                                             strict)  # fmt: skip
        except GoldenFileError as exc:
            report.errors = (ExecutionError(kind="golden", message=str(exc)),)
        failures = report.failures()
        differs = any(f.status != "ok" for f in report.findings)
        if failures and differs and not notes and not report.all_errors:
            notes = _obtained(config, run, self.book.golden_dir)
        if failures or notes:
            raise ChapterFailed(failures, notes)

    def repr_failure(self, excinfo: Any, style: Any = None) -> Any:
        if isinstance(excinfo.value, ChapterFailed):
            return ChapterFailureRepr(self.path, excinfo.value.failures, excinfo.value.notes)
        return super().repr_failure(excinfo, style)

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, 0, f"chapter {self.chapter_path}"


class ChapterFailureRepr(TerminalRepr):
    """One section per failure: ``chapter.qmd:line: headline`` then its evidence, indented."""

    def __init__(self, path: Path, failures: list[Any], notes: list[str]):
        self.failures = failures
        self.notes = notes
        first = failures[0] if failures else None
        summary = f"{first.location}: {first.headline}" if first else notes[0].splitlines()[0]
        if len(failures) > 1:
            summary += f" (+{len(failures) - 1} more)"
        self.reprcrash = ReprFileLocation(str(path), first.line or 0 if first else 0, summary)

    def toterminal(self, tw: Any) -> None:
        for failure in self.failures:
            tw.line(f"{failure.location}: {failure.headline}", red=True, bold=True)
            for detail in failure.details:
                tw.line(f"    {detail}")
        for note in self.notes:
            tw.line(note, yellow=True)

    def __str__(self) -> str:
        lines = [failure.render() for failure in self.failures] + self.notes
        return "\n".join(lines)


def _golden(store: Any, run: Any, config: pytest.Config, strict: bool) -> tuple[tuple, list[str]]:
    """Findings and pytest-regressions style notes (a note fails the item, as there)."""
    clean = not run.errors and not any(v.error for v in run.inline)
    path = store.path_for(run.chapter)
    if config.getoption("regen_all", default=False) and clean:
        store.update(run)
        return (), []
    if not path.is_file() and clean:
        changes = store.update(run)
        return (), [_note("File not found in data directory, created:", path, changes)]
    findings = store.compare(run, strict=strict)
    differs = any(f.status != "ok" for f in findings)
    if config.getoption("force_regen", default=False) and differs and clean:
        changes = store.update(run)
        note = _note("Files differ and --force-regen set, regenerating file at:", path, changes)
        return findings, [note]
    return findings, []


def _obtained(config: pytest.Config, run: Any, golden_dir: Path) -> list[str]:
    """pytest-regressions' *obtained* file: this run's snapshot as ``<stem>.obtained.yml`` in
    pytest's temporary folder (never beside the goldens), to diff against the golden file."""
    from invariants.golden import GoldenStore, dump_golden

    factory = getattr(config, "_tmp_path_factory", None)  # absent under ``-p no:tmpdir``
    if factory is None:
        return []
    store = GoldenStore(golden_dir)
    folder = factory.mktemp("invariants-obtained", numbered=True)
    obtained = folder / f"{Path(run.chapter).stem}.obtained.yml"
    obtained.write_text(dump_golden(store.snapshot(run)), encoding="utf-8")
    return [f"Obtained data (diff it with {store.path_for(run.chapter)}):\n- {obtained}"]


def _note(banner: str, path: Path, changes: tuple) -> str:
    from invariants.render import change_text

    return "\n".join([banner, f"- {path}", *(f"    {change_text(c)}" for c in changes)])


def _timeout(config: pytest.Config) -> float:
    value = config.getoption("invariants_timeout", default=None)
    return float(value if value is not None else config.getini("invariants_timeout"))


def _strict(config: pytest.Config) -> bool:
    if config.getoption("invariants_strict", default=None):
        return True
    ini = str(config.getini("invariants_strict")).strip().lower()
    if ini in _TRUE or ini in _FALSE:
        return ini in _TRUE
    if ini:
        raise pytest.UsageError(
            f"invariants_strict = {ini!r}: use true or false, or leave it unset to follow $CI"
        )
    return os.environ.get("CI", "").strip().lower() not in ("", *_FALSE)  # CI=true, CI=1, ...


_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")
