"""Find what to check: a book folder's chapters, single chapters, or the default book.

A book is the folder holding ``_quarto.yml``. Its chapter list comes from ``book: chapters:``
(``part:`` groups included) or ``project: render:``; without either (or without
``_quarto.yml``) every ``.qmd`` under the folder is a chapter. With no paths the current Quarto
project (searched upward from the working directory) is checked, else the bundled sample book.
Goldens live in ``mlsysim: golden-dir:`` (default ``golden``), which must stay inside the book.
"""

from __future__ import annotations

import functools
import importlib.util
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

QUARTO_CONFIG = "_quarto.yml"
DEFAULT_GOLDEN_DIR = "golden"
STATE_DIR = ".invariants"
_SKIPPED_DIRS = {"_book", "_site", "_freeze", ".quarto", STATE_DIR, "golden", "node_modules"}


class BookError(ValueError):
    """A path or book configuration we cannot check (a usage error: exit code 2)."""


@dataclass(frozen=True)
class Book:
    """A book root (resolved), its chapters (as given: may lie outside the book through a
    symlink or ``..``) and the folders the checker may write to."""

    root: Path
    chapters: tuple[Path, ...]
    golden_dir: Path

    @property
    def state_dir(self) -> Path:
        return self.root / STATE_DIR

    @property
    def cache_dir(self) -> Path:
        return self.state_dir / "cache"

    @property
    def report_path(self) -> Path:
        return self.state_dir / "report.json"

    def relative(self, chapter: Path) -> str:
        """``chapter`` relative to the book root, POSIX separators (``..`` when outside)."""
        return Path(os.path.relpath(os.path.abspath(chapter), self.root)).as_posix()


def find_book(paths: Sequence[str | Path], cwd: Path | None = None) -> Book:
    """The book and chapters that ``paths`` name (see the module docstring)."""
    cwd = Path(cwd or Path.cwd())
    if not paths:
        project = find_project_root(cwd)
        return book_from_folder(project if project else bundled_book())
    books: list[Book] = []
    for raw in paths:
        path = Path(raw) if Path(raw).is_absolute() else cwd / raw
        if not path.exists():
            raise BookError(f"path does not exist: {raw}{_did_you_mean(raw, path)}")
        if path.is_dir():
            books.append(book_from_folder(path))
        elif path.suffix.lower() != ".qmd":
            raise BookError(f"not a .qmd chapter or a book folder: {raw}")
        else:
            root = find_project_root(path.parent) or path.parent
            books.append(_make_book(root, [path]))
    roots = {book.root for book in books}
    if len(roots) > 1:
        names = ", ".join(sorted(str(r) for r in roots))
        raise BookError(f"the paths belong to several books ({names}); check one at a time")
    chapters = list(dict.fromkeys(ch for book in books for ch in book.chapters))
    return _make_book(books[0].root, chapters)


def find_project_root(start: Path) -> Path | None:
    """The nearest folder at or above ``start`` holding ``_quarto.yml``."""
    start = Path(os.path.abspath(start))
    for folder in (start, *start.parents):
        if (folder / QUARTO_CONFIG).is_file():
            return folder
    return None


def bundled_book() -> Path:
    """The sample book: ``book_fixtures/`` beside the package in a clone, or the copy a wheel
    bundles as ``mlsysim/_bundled/book_fixtures`` (found without importing mlsysim)."""
    spec = importlib.util.find_spec("mlsysim")
    if spec is None or spec.origin is None:
        raise BookError("no PATHS given, no _quarto.yml above here, and mlsysim is not installed")
    package = Path(spec.origin).parent
    for candidate in (package.parent / "book_fixtures", package / "_bundled" / "book_fixtures"):
        if candidate.is_dir():
            return candidate
    raise BookError(f"no PATHS given and the bundled sample book is missing (looked in {package})")


def package_dir(name: str = "mlsysim") -> Path | None:
    """The folder of an installed package, without importing it."""
    spec = importlib.util.find_spec(name)
    return Path(spec.origin).parent.resolve() if spec and spec.origin else None


def book_from_folder(folder: Path) -> Book:
    """A book folder: chapters from ``_quarto.yml`` when it lists them, else every ``.qmd``."""
    folder = Path(os.path.abspath(folder))
    config = read_config(folder)
    listed = _listed_chapters(config)
    if listed is None:
        chapters = sorted(_all_qmd(folder))
    else:
        chapters = []
        for entry in listed:
            path = folder / entry
            if not path.is_file():
                raise BookError(
                    f"{folder / QUARTO_CONFIG} lists a chapter that does not exist: {entry}"
                )
            chapters.append(path)
    return _make_book(folder, chapters)


def read_config(root: Path) -> dict[str, Any]:
    """``_quarto.yml`` as a mapping ({} when absent); unreadable YAML is a ``BookError``."""
    path = root / QUARTO_CONFIG
    try:
        stat = path.stat()
    except OSError:
        return {}
    return _parse_config(str(path), stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=32)
def _parse_config(path: str, mtime_ns: int, size: int) -> dict[str, Any]:
    """Parsed once per (file, version): discovery asks for it several times."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        data = yaml.load(Path(path).read_text(encoding="utf-8"), Loader=loader) or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise BookError(f"cannot read {path}: {exc}") from exc
    if not isinstance(data, dict):
        raise BookError(f"{path} must be a YAML mapping, got {type(data).__name__}")
    return data


def _make_book(root: Path, chapters: Iterable[Path]) -> Book:
    root = Path(os.path.abspath(root)).resolve()
    chapters = tuple(Path(os.path.abspath(c)) for c in chapters)
    return Book(root=root, chapters=chapters, golden_dir=_golden_dir(root))


def _golden_dir(root: Path) -> Path:
    config = read_config(root).get("mlsysim") or {}
    name = config.get("golden-dir", DEFAULT_GOLDEN_DIR) if isinstance(config, dict) else None
    if not isinstance(name, str) or not name:
        raise BookError(f"{root / QUARTO_CONFIG}: mlsysim: golden-dir must be a folder name")
    golden = (root / name).resolve()
    if not golden.is_relative_to(root):
        raise BookError(
            f"{root / QUARTO_CONFIG}: mlsysim: golden-dir {name!r} points outside the book; "
            "the checker only writes inside the book"
        )
    return golden


def stem_clashes(chapters: Sequence[Path]) -> dict[Path, Path]:
    """Goldens are named by chapter stem: each chapter that shares its stem with another, mapped
    to the first one with that stem (``part1/intro.qmd`` and ``part2/intro.qmd`` would write one
    golden file)."""
    first: dict[str, Path] = {}
    clashes: dict[Path, Path] = {}
    for chapter in chapters:
        other = first.setdefault(chapter.stem, chapter)
        if other != chapter:
            clashes[chapter] = other
            clashes.setdefault(other, chapter)
    return clashes


def _listed_chapters(config: dict[str, Any]) -> list[str] | None:
    book = config.get("book") if isinstance(config.get("book"), dict) else {}
    entries: list[Any] = []
    for key in ("chapters", "appendices"):
        entries += book.get(key) or []
    if not entries:
        project = config.get("project") if isinstance(config.get("project"), dict) else {}
        entries = list(project.get("render") or [])
        if not entries:
            return None
    listed = [e for e in _flatten(entries) if e.lower().endswith(".qmd") and "*" not in e]
    return list(dict.fromkeys(listed)) or None


def _flatten(entries: Iterable[Any]) -> Iterable[str]:
    """Chapter file names from ``chapters:`` entries: strings, ``{part: ..., chapters: [...]}``
    groups and ``{href: ...}`` / ``{file: ...}`` items."""
    for entry in entries:
        if isinstance(entry, str):
            yield entry
        elif isinstance(entry, dict):
            for key in ("href", "file"):
                if isinstance(entry.get(key), str):
                    yield entry[key]
            part = entry.get("part")
            if isinstance(part, str) and part.lower().endswith(".qmd"):
                yield part
            yield from _flatten(entry.get("chapters") or [])


def _all_qmd(folder: Path, max_depth: int | None = None) -> Iterable[Path]:
    """Every chapter ``.qmd`` under ``folder`` (at most ``max_depth`` folders down)."""
    for dirpath, dirnames, filenames in os.walk(folder):
        deep = max_depth is not None and len(Path(dirpath).relative_to(folder).parts) >= max_depth
        dirnames[:] = [] if deep else [
            d for d in dirnames if d not in _SKIPPED_DIRS and not d.startswith(".")
        ]  # fmt: skip
        for name in filenames:
            if name.lower().endswith(".qmd") and not name.startswith("_"):
                yield Path(dirpath) / name


def _did_you_mean(raw: str | Path, path: Path) -> str:
    """``"; did you mean book/chapters/03_hardware.qmd?"``: the existing ``.qmd`` files under
    the nearest folder of ``path`` that exists whose names are closest to it (difflib ratio >= 0.6
    and within 0.1 of the best; at most 3), written as ``raw`` was."""
    import difflib
    import itertools

    folder = next(p for p in path.parents if p.is_dir())  # the filesystem root always is
    missing = path.relative_to(folder)
    near = itertools.islice(_all_qmd(folder, max_depth=3), 2000)
    names = [chapter.relative_to(folder).as_posix() for chapter in near]
    ratio = {
        name: difflib.SequenceMatcher(None, missing.as_posix(), name).ratio() for name in names
    }
    ranked = sorted(ratio, key=lambda name: (-ratio[name], name))
    best = ratio[ranked[0]] if ranked else 0.0
    close = [name for name in ranked[:3] if ratio[name] >= max(0.6, best - 0.1)]
    if not close:
        return ""
    typed = Path(raw).parents[len(missing.parts) - 1]  # the part of ``raw`` that exists
    return f"; did you mean {', '.join((typed / name).as_posix() for name in close)}?"
