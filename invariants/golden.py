"""The golden store: one YAML snapshot per chapter of every number the chapter publishes.

``golden/<chapter stem>.yml`` holds an ``inline`` entry per published inline expression (keyed by
its code text) and a ``golden`` entry per ``check.golden(name, ...)``. It is written only by
:meth:`GoldenStore.update` (atomically, under a lock, in sorted order) and in exactly the bytes
pytest-regressions' ``data_regression`` writes, so the CLI and the pytest plugin agree.
Comparison: a changed inline text is a *shift*; a golden fails only outside its tolerance,
``|new - old| <= atol + rtol * |old|`` after converting ``new`` into the snapshot's unit.
"""

from __future__ import annotations

import contextlib
import math
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from invariants.files import write_atomic
from invariants.model import ChapterRun, GoldenFinding
from invariants.unit_text import UnitMismatch, convert

INLINE = "inline"
GOLDEN = "golden"
LOCK_NAME = ".golden.lock"
EXACT_RTOL = 1e-12  # a golden without rtol/atol must match up to float round-off
_INLINE_FIELDS = ("magnitude", "text", "unit")
_GOLDEN_FIELDS = ("atol", "magnitude", "rtol", "text", "unit")


class GoldenFileError(Exception):
    """A golden file that cannot be read, parsed or written; the message names the file, and
    ``file:line`` when the problem has a line (a YAML syntax error).

    A broken golden file is never regenerated silently: the author repairs or deletes it.
    """

    def __init__(self, path: Path, reason: str, line: int | None = None):
        self.path = Path(path)
        self.reason = reason
        self.line = line
        super().__init__(f"{path}:{line}: {reason}" if line else f"{path}: {reason}")


def dump_golden(data: dict[str, Any]) -> str:
    """``data`` as YAML, byte for byte what pytest-regressions' ``data_regression`` writes:
    a SafeDumper without aliases, keys sorted, block style, unicode kept, indent 2."""
    import yaml

    class _NoAliasDumper(yaml.SafeDumper):
        def ignore_aliases(self, data: object) -> bool:
            return True

    dumped = yaml.dump_all(
        [data],
        Dumper=_NoAliasDumper,
        default_flow_style=False,
        allow_unicode=True,
        indent=2,
        encoding="utf-8",
    )
    return dumped.decode("utf-8")


@dataclass(frozen=True)
class _Entry:
    """One snapshot entry of this run, with the ``.qmd`` lines it was published on and (inline)
    the indices of the expressions that published it."""

    kind: str
    key: str
    data: dict[str, Any]
    lines: tuple[int, ...]
    exprs: tuple[int, ...] = ()

    @property
    def line(self) -> int | None:
        return self.lines[0] if self.lines else None


def inline_keys(run: ChapterRun) -> dict[int, str]:
    """The snapshot key of each inline value ``run`` published, by its expression's ``index``
    (values that failed to evaluate have none)."""
    return {index: e.key for e in _entries(run) if e.kind == INLINE for index in e.exprs}


class GoldenStore:
    """Snapshots of a book's chapters in ``golden_dir`` (one ``<stem>.yml`` per chapter)."""

    def __init__(self, golden_dir: Path):
        self.golden_dir = Path(golden_dir)

    def path_for(self, chapter: Path) -> Path:
        return self.golden_dir / f"{Path(chapter).stem}.yml"

    def snapshot(self, run: ChapterRun) -> dict[str, Any]:
        """The golden file's data for ``run``: ``{"golden": {...}, "inline": {...}}``."""
        entries = _entries(run)
        return {
            GOLDEN: {e.key: e.data for e in entries if e.kind == GOLDEN},
            INLINE: {e.key: e.data for e in entries if e.kind == INLINE},
        }

    def load(self, chapter: Path) -> dict[str, Any] | None:
        """The stored snapshot of ``chapter``, or None when it has none yet."""
        path = self.path_for(chapter)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError) as exc:
            raise GoldenFileError(path, f"cannot read the golden file: {exc}") from exc
        return _parse_golden(text, path)

    def compare(self, run: ChapterRun, *, strict: bool) -> tuple[GoldenFinding, ...]:
        """One finding per published value and per stored entry (``ok`` ones included).

        ``strict`` only changes the messages of ``new``/``missing``; whether they fail is the
        report's call (:attr:`GoldenFinding.failed` leaves them out)."""
        path = self.path_for(run.chapter)
        stored = self.load(run.chapter) or {GOLDEN: {}, INLINE: {}}
        entries = _entries(run)
        findings = [_compare_entry(e, stored[e.kind].get(e.key), path, strict) for e in entries]
        findings.extend(_missing(stored, entries, run, strict))
        return tuple(findings)

    def update(self, run: ChapterRun) -> tuple[GoldenFinding, ...]:
        """Write ``run``'s snapshot; returns what changed (``new``/``updated``/``removed``).

        Atomic (temp file + ``os.replace``) under an inter-process lock; no write when nothing
        changed. A run with errors removes nothing: entries it did not produce are kept."""
        path = self.path_for(run.chapter)
        with self._locked(path):
            stored = self.load(run.chapter)
            data = self.snapshot(run)
            if stored is not None and _has_errors(run):
                for kind in (GOLDEN, INLINE):
                    data[kind] = {**stored[kind], **data[kind]}
            changes = _changes(stored or {GOLDEN: {}, INLINE: {}}, data, _entries(run))
            if stored is None or changes:
                _atomic_write(path, dump_golden(data))
        return changes

    @contextlib.contextmanager
    def _locked(self, path: Path) -> Iterator[None]:
        """Hold ``fcntl.flock`` on ``<golden dir>/.golden.lock``; the file is removed on release,
        so the folder holds only goldens. A waiter that wakes up on a removed (or replaced) lock
        file retries on the current one, so two holders never overlap."""
        import fcntl

        lock = self.golden_dir / LOCK_NAME
        while True:
            try:
                self.golden_dir.mkdir(parents=True, exist_ok=True)
                fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
            except OSError as exc:
                raise GoldenFileError(
                    path, f"cannot write the golden folder: {_reason(exc)}"
                ) from exc
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                current = os.stat(lock).st_ino
            except FileNotFoundError:
                current = None
            if current == os.fstat(fd).st_ino:
                break
            os.close(fd)  # the holder before us removed this lock file: take the new one
        try:
            yield
        finally:
            with contextlib.suppress(OSError):
                os.unlink(lock)
            os.close(fd)  # closing releases the lock


_Published = tuple[str, dict[str, Any], int | None, int | None]  # text, data, line, expr index


def _entries(run: ChapterRun) -> list[_Entry]:
    """This run's entries in document order, de-duplicated by key and text. An inline key is
    the expression's code with each whitespace run collapsed to one space.

    The same expression (or golden name) published twice with the same text is one entry (its
    lines collected); published with a different text, the later text gets key ``"<key> #2"``,
    ``"<key> #3"``, ... in order of first appearance, so each text is compared on its own."""
    groups: dict[tuple[str, str], list[_Published]] = {}
    for value in run.inline:
        if value.text is None or value.error is not None:
            continue
        data = {"magnitude": value.magnitude, "text": value.text, "unit": value.unit}
        key = " ".join(value.expr.code.split())  # a reflowed paragraph keeps its keys
        published = (value.text, data, value.expr.line, value.expr.index)
        groups.setdefault((INLINE, key), []).append(published)
    for outcome in run.checks:
        record = outcome.record
        if record.kind != GOLDEN or record.golden is None:
            continue
        golden = record.golden
        data = {field: golden.get(field) for field in _GOLDEN_FIELDS}
        key = record.name or record.message
        published = (str(golden["text"]), data, outcome.line, None)
        groups.setdefault((GOLDEN, key), []).append(published)

    entries = []
    for (kind, key), group in groups.items():
        texts: dict[str, tuple[dict[str, Any], list[int], list[int]]] = {}
        for text, data, line, expr in group:
            _, lines, exprs = texts.setdefault(text, (data, [], []))
            if line is not None:
                lines.append(line)
            if expr is not None:
                exprs.append(expr)
        for n, (data, lines, exprs) in enumerate(texts.values(), start=1):
            entry_key = key if n == 1 else f"{key} #{n}"
            entries.append(_Entry(kind, entry_key, data, tuple(lines), tuple(exprs)))
    return entries


def _has_errors(run: ChapterRun) -> bool:
    return bool(run.errors) or any(v.error is not None for v in run.inline)


def _compare_entry(
    entry: _Entry, old: dict[str, Any] | None, path: Path, strict: bool
) -> GoldenFinding:
    new = entry.data
    found = {"key": entry.key, "kind": entry.kind, "new": new["text"], "line": entry.line}
    if old is None:
        hint = f"{_strict_hint(strict)}; record it with --update"
        return GoldenFinding(status="new", message=f"new since the snapshot ({hint})", **found)
    found["old"] = old["text"]
    if entry.kind == INLINE:
        if old["text"] == new["text"]:
            return GoldenFinding(status="ok", **found)
        rel = _relative_change(old, new, path)
        also = f" (also published on lines {_lines(entry.lines[1:])})" if entry.lines[1:] else ""
        message = f"published text changed: {old['text']} → {new['text']}{_pct(rel)}{also}"
        return GoldenFinding(status="shifted", rel_change=rel, message=message, **found)
    return _compare_golden(old, new, path, found)


def _compare_golden(
    old: dict[str, Any], new: dict[str, Any], path: Path, found: dict[str, Any]
) -> GoldenFinding:
    rtol = new.get("rtol") if new.get("rtol") is not None else old.get("rtol")
    atol = new.get("atol") if new.get("atol") is not None else old.get("atol")
    tolerance = _tolerance_text(rtol, atol)
    if rtol is None and atol is None:
        rtol = EXACT_RTOL
    try:
        new_magnitude = convert(new["magnitude"], new["unit"], old["unit"], _bad_unit(path))
    except UnitMismatch as exc:
        return GoldenFinding(status="unit_error", message=str(exc), **found)
    old_magnitude = old["magnitude"]
    if old_magnitude is None or new_magnitude is None:
        same = old["text"] == found["new"]
        rel = None
    else:
        same = _close(new_magnitude, old_magnitude, rtol or 0.0, atol or 0.0)
        rel = _rel(old_magnitude, new_magnitude)
    change = f"{old['text']} → {found['new']}{_pct(rel)}"
    if same:
        message = "" if old["text"] == found["new"] else f"within {tolerance}: {change}"
        return GoldenFinding(status="ok", rel_change=rel, message=message, **found)
    return GoldenFinding(
        status="out_of_tolerance", rel_change=rel, message=f"outside {tolerance}: {change}", **found
    )


def _strict_hint(strict: bool) -> str:
    """Whether a new/missing value fails this run: true under ``--strict`` (the CLI default)
    and ``--no-strict`` alike."""
    return "fails: strict mode" if strict else "reported only: strict mode is off"


def _missing(
    stored: dict[str, Any], entries: list[_Entry], run: ChapterRun, strict: bool
) -> list[GoldenFinding]:
    """Stored entries nothing published this time (skipped when the run had errors)."""
    if _has_errors(run):
        return []
    produced = {(e.kind, e.key) for e in entries}
    hint = f" ({_strict_hint(strict)}; drop it with --update)"
    return [
        GoldenFinding(
            key=key,
            kind=kind,
            status="missing",
            old=data["text"],
            message=f"in the snapshot but no longer published{hint}",
        )
        for kind in (GOLDEN, INLINE)
        for key, data in sorted(stored[kind].items())
        if (kind, key) not in produced
    ]


def _changes(
    stored: dict[str, Any], data: dict[str, Any], entries: list[_Entry]
) -> tuple[GoldenFinding, ...]:
    lines = {(e.kind, e.key): e.line for e in entries}
    changes = []
    for kind in (GOLDEN, INLINE):
        old, new = stored[kind], data[kind]
        for key in sorted(old.keys() | new.keys()):
            before, after = old.get(key), new.get(key)
            if before == after:
                continue
            status = "new" if before is None else "removed" if after is None else "updated"
            changes.append(
                GoldenFinding(
                    key=key,
                    kind=kind,
                    status=status,
                    old=before["text"] if before else None,
                    new=after["text"] if after else None,
                    line=lines.get((kind, key)),
                    message=f"{status} in the snapshot",
                )
            )
    return tuple(changes)


# --- reading and writing files -------------------------------------------------------------


def _parse_golden(text: str, path: Path) -> dict[str, Any]:
    """Validate a golden file's structure; anything unexpected is a :class:`GoldenFileError`."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml: ~10x the pure-Python one
    try:
        data = yaml.load(text, Loader=loader)  # a safe loader
    except yaml.YAMLError as exc:
        problem, line = _yaml_problem(exc)
        raise GoldenFileError(path, f"not valid YAML: {problem}", line) from exc
    if not isinstance(data, dict):
        got = "an empty file" if data is None else f"a {type(data).__name__}"
        raise GoldenFileError(path, f"expected a mapping with 'golden' and 'inline', got {got}")
    unknown = sorted(set(map(str, data)) - {GOLDEN, INLINE})
    if unknown:
        raise GoldenFileError(path, f"unknown top-level keys {unknown}; expected golden, inline")
    parsed = {}
    for kind, fields in ((GOLDEN, _GOLDEN_FIELDS), (INLINE, _INLINE_FIELDS)):
        section = data.get(kind) or {}
        if not isinstance(section, dict):
            raise GoldenFileError(path, f"'{kind}' must be a mapping of entries")
        for key, entry in section.items():
            _check_entry(path, kind, key, entry, fields)
        parsed[kind] = {str(key): entry for key, entry in section.items()}
    return parsed


def _check_entry(path: Path, kind: str, key: Any, entry: Any, fields: tuple[str, ...]) -> None:
    where = f"entry {kind}[{key!r}]"
    if not isinstance(entry, dict) or set(entry) != set(fields):
        raise GoldenFileError(path, f"{where} must have exactly the fields {', '.join(fields)}")
    if not isinstance(entry["text"], str):
        raise GoldenFileError(path, f"{where}: text must be a string")
    if entry["unit"] is not None and not isinstance(entry["unit"], str):
        raise GoldenFileError(path, f"{where}: unit must be a string or null")
    magnitude = entry["magnitude"]
    numbers = magnitude if isinstance(magnitude, list) else [magnitude]
    if magnitude is not None and not all(_is_number(m) for m in numbers):
        raise GoldenFileError(path, f"{where}: magnitude must be a number, a list or null")
    for tol in ("rtol", "atol"):
        if tol in entry and entry[tol] is not None and not _is_number(entry[tol]):
            raise GoldenFileError(path, f"{where}: {tol} must be a number or null")


def _bad_unit(path: Path) -> Any:
    """The error for a stored unit pint cannot parse: the golden file is broken."""
    return lambda reason: GoldenFileError(path, reason)


def _atomic_write(path: Path, text: str) -> None:
    try:
        write_atomic(path, text.encode("utf-8"))
    except OSError as exc:
        raise GoldenFileError(path, f"cannot write the golden file: {_reason(exc)}") from exc


# --- numbers and units ---------------------------------------------------------------------


def _close(new: Any, old: Any, rtol: float, atol: float) -> bool:
    if isinstance(new, list) or isinstance(old, list):
        if not (isinstance(new, list) and isinstance(old, list)) or len(new) != len(old):
            return False
        return all(_close(n, o, rtol, atol) for n, o in zip(new, old, strict=True))
    return abs(new - old) <= atol + rtol * abs(old)


def _relative_change(old: dict[str, Any], new: dict[str, Any], path: Path) -> float | None:
    try:
        converted = convert(new["magnitude"], new["unit"], old["unit"], _bad_unit(path))
    except (UnitMismatch, GoldenFileError):
        return None
    return _rel(old["magnitude"], converted)


def _rel(old: Any, new: Any) -> float | None:
    """(new - old) / |old| for two scalars; None when undefined."""
    if not (_is_number(old) and _is_number(new)) or old == 0:
        return None
    return (new - old) / abs(old)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _pct(rel: float | None) -> str:
    return "" if rel is None else f" ({rel * 100:+.3g}%)"


def _tolerance_text(rtol: float | None, atol: float | None) -> str:
    parts = [f"{name}={value:g}" for name, value in (("rtol", rtol), ("atol", atol)) if value]
    return ", ".join(parts) if parts else "exact match"


def _lines(lines: tuple[int, ...]) -> str:
    return ", ".join(str(line) for line in lines)


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc)


def _yaml_problem(exc: Exception) -> tuple[str, int | None]:
    """PyYAML's problem text and its 1-based line (None when it has no mark)."""
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    return problem, (mark.line + 1 if mark is not None else None)
