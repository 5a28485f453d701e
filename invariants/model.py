"""The data that flows through the verifier: qmd reader → runner → golden store → report.

Plain frozen dataclasses; no behaviour beyond small derived properties. Line numbers are 1-based
``.qmd`` lines, always the line an author would open in an editor.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from invariants.protocol import CheckRecord


@dataclass(frozen=True)
class Cell:
    """One executable ```` ```{python} ```` cell. ``source`` keeps its ``#|`` option lines, so
    line ``k`` (1-based) of ``source`` is ``.qmd`` line ``start_line + k - 1``."""

    index: int
    source: str
    start_line: int
    options: dict[str, Any] = field(default_factory=dict)
    language: str = "python"

    @property
    def label(self) -> str | None:
        label = self.options.get("label")
        return str(label) if label is not None else None

    @property
    def evaluate(self) -> bool:
        return self.options.get("eval", True) is not False

    @property
    def allows_error(self) -> bool:
        return self.options.get("error", False) is True

    def qmd_line(self, cell_line: int) -> int:
        """The ``.qmd`` line of 1-based line ``cell_line`` of this cell's source."""
        return self.start_line + max(cell_line, 1) - 1

    def describe(self) -> str:
        return self.label or f"cell {self.index + 1}"


@dataclass(frozen=True)
class InlineExpr:
    """One `` `{python} expr` `` in prose. It is evaluated after the ``cells_before`` executable
    cells that precede it in the document."""

    index: int
    code: str
    line: int
    column: int
    cells_before: int


@dataclass(frozen=True)
class Publication:
    """Where an inline value was published, for the Quarto filter to find it in the rendered
    page: its snapshot ``key`` and ``text``, the ``.qmd`` ``line`` and ``column`` of its opening
    backtick, and the prose words just ``before`` and ``after`` it (neighbouring values as their
    text)."""

    key: str
    text: str
    line: int
    column: int
    before: tuple[str, ...]
    after: tuple[str, ...]


@dataclass(frozen=True)
class Chapter:
    """A parsed ``.qmd`` file."""

    path: Path
    text: str
    front_matter: dict[str, Any]
    cells: tuple[Cell, ...]
    inline: tuple[InlineExpr, ...]

    @property
    def name(self) -> str:
        return self.path.stem


ErrorKind = Literal["exception", "timeout", "kernel_died", "no_kernel", "reader", "golden"]


@dataclass(frozen=True)
class ExecutionError:
    """Something that stopped a chapter or a cell from running as written (exit code 2).
    ``follows``: on a ``NameError`` for a name that occurs in a cell which failed earlier (so
    it was likely never bound: a follow-on, not a root cause), the ``.qmd`` line of the failure
    it follows from."""

    kind: ErrorKind
    message: str
    line: int | None = None
    cell: str | None = None
    traceback: str = ""
    follows: int | None = None


@dataclass(frozen=True)
class SourceLocation:
    """A line of a module file: ``file`` relative to the chapter's folder (POSIX; absolute when
    outside it), ``line`` 1-based. Printed ``helper.py:3``."""

    file: str
    line: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


@dataclass(frozen=True)
class CheckOutcome:
    """A ``check()``/``check.golden()`` record placed at its ``.qmd`` line. ``source``: where
    the call is written when that is a module on disk rather than a cell (then ``line`` is the
    chapter's call into that module)."""

    record: CheckRecord
    line: int | None
    cell: str | None
    source: SourceLocation | None = None


@dataclass(frozen=True)
class InlineValue:
    """The rendered text of an inline expression (markdown repr if any, else ``str``)."""

    expr: InlineExpr
    text: str | None
    magnitude: float | list[float] | None = None
    unit: str | None = None
    error: str | None = None


@dataclass(frozen=True)
class ChapterRun:
    """What executing one chapter produced. ``dependencies`` are the module and data files the
    kernel imported or opened (for the result cache)."""

    chapter: Path
    cells_run: int
    checks: tuple[CheckOutcome, ...] = ()
    inline: tuple[InlineValue, ...] = ()
    errors: tuple[ExecutionError, ...] = ()
    duration_s: float = 0.0
    dependencies: tuple[str, ...] = ()


GoldenStatus = Literal[
    "ok", "shifted", "out_of_tolerance", "new", "missing", "unit_error", "updated", "removed"
]


@dataclass(frozen=True)
class GoldenFinding:
    """One published number compared with its snapshot."""

    key: str
    kind: Literal["inline", "golden"]
    status: GoldenStatus
    old: str | None = None
    new: str | None = None
    rel_change: float | None = None
    line: int | None = None
    message: str = ""

    @property
    def failed(self) -> bool:
        return self.status in ("shifted", "out_of_tolerance", "unit_error")
