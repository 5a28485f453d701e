"""Read a Quarto ``.qmd`` chapter into front matter, executable cells and inline expressions.

Line-based, like Quarto's splitter (``src/core/lib/break-quarto-md.ts``), with CommonMark fences:
a fence is a line of >= 3 backticks (or tildes), indented by any amount (cells inside list items),
closed by a line of the same character at least as long. ```` ```{python} ```` opens an executable
cell; ```` ```{{python}} ````, ```` ```python ```` and every other fence are shown, never run.
Inline `` `{python} expr` `` follows Quarto's rule (a single backtick not preceded by another,
``{python}``, a space, code without backticks, a backtick); a code span opened by a longer
backtick run (`` `` `{python} x` `` ``) holds code, not expressions.
Every cell and inline expression keeps its 1-based ``.qmd`` line (and column).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from invariants.model import Cell, Chapter, InlineExpr

EXECUTED_LANGUAGE = "python"

# Quarto's startCodeCellRegEx: ^\s*```+\s*\{([=A-Za-z]+)( *[ ,].*)?\}\s*$
_CELL_OPEN = re.compile(
    r"^(?P<indent>\s*)(?P<fence>`{3,})\s*\{(?P<lang>[=A-Za-z]+)( *[ ,].*)?\}\s*$"
)
_FENCE_OPEN = re.compile(r"^(?P<indent>\s*)(?P<fence>`{3,}|~{3,})(?P<info>.*)$")
_FENCE_CLOSE = re.compile(r"^\s*(?P<fence>`{3,}|~{3,})\s*$")
_YAML_OPEN = re.compile(r"^---\s*$")
_YAML_CLOSE = re.compile(r"^(---|\.\.\.)\s*$")
_OPTION_LINE = re.compile(r"^#\|\s?(?P<yaml>.*)$")
_BACKTICK_RUN = re.compile(r"`+")
# Quarto's executeInlineCodeHandler: (^|[^`])`{python}[ \t]([^`]+)`
_INLINE_EXPR = re.compile(r"`\{" + EXECUTED_LANGUAGE + r"\}[ \t](?P<expr>[^`]+)`")


YamlLoader = Callable[[str, Path, int, str], dict[str, Any]]  # text, path, first line, what


class QmdError(ValueError):
    """A chapter the reader cannot split; the message starts with ``path:line:``."""

    def __init__(self, path: Path, line: int, reason: str):
        self.path = Path(path)
        self.line = line
        self.reason = reason
        super().__init__(f"{path}:{line}: {reason}")


def read_qmd(path: Path) -> Chapter:
    """Read and parse the ``.qmd`` file at ``path`` (UTF-8, LF or CRLF line ends)."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise QmdError(path, 0, f"cannot read the chapter: {exc.strerror or exc}") from exc
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise QmdError(path, line, f"not valid UTF-8 ({exc.reason})") from exc
    return parse_qmd(text, path)


def parse_qmd(text: str, path: Path) -> Chapter:
    """Split ``text`` (the content of ``path``) into a :class:`~invariants.model.Chapter`."""
    path = Path(path)
    text, front_matter, cells, prose = _split(text, path)
    inline = [expr for _, found in _paragraphs(prose, cells) for expr, _, _ in found]
    return Chapter(
        path=path, text=text, front_matter=front_matter, cells=tuple(cells), inline=tuple(inline)
    )


def prose_pieces(text: str, path: Path) -> list[str | InlineExpr]:
    """The chapter's prose in source order: its text between inline expressions, and each
    :class:`~invariants.model.InlineExpr` (as :func:`parse_qmd` numbers them) where it stands.
    Front matter and fenced blocks are left out; each paragraph ends with a blank line."""
    _, _, cells, prose = _split(text, Path(path), _skip_yaml)  # only the cells' lines matter
    pieces: list[str | InlineExpr] = []
    for paragraph, found in _paragraphs(prose, cells):
        end = 0
        for expr, start, stop in found:
            pieces += [paragraph[end:start], expr]
            end = stop
        pieces.append(paragraph[end:] + "\n\n")
    return pieces


def _split(
    text: str, path: Path, load: YamlLoader | None = None
) -> tuple[str, dict[str, Any], list[Cell], list[tuple[int, str]]]:
    """The normalised text, its front matter, its executable cells and its prose lines
    (``(1-based line, text)`` outside fences and front matter; a fence leaves a blank line)."""
    text = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    lines = text.split("\n")
    load = load or _load_yaml
    front_matter, body_start = _front_matter(lines, path, load)

    cells: list[Cell] = []
    prose: list[tuple[int, str]] = []
    i = body_start
    while i < len(lines):
        line = lines[i]
        cell_open = _CELL_OPEN.match(line)
        fence_open = cell_open or _FENCE_OPEN.match(line)
        if fence_open is None or _is_not_a_fence(fence_open):
            prose.append((i + 1, line))
            i += 1
            continue
        close = _find_close(lines, i + 1, fence_open.group("fence"))
        if close is None:
            kind = f"```{{{cell_open.group('lang')}}}" if cell_open else fence_open.group("fence")
            raise QmdError(
                path,
                i + 1,
                f"unclosed {kind} fence: no closing fence of at least "
                f"{len(fence_open.group('fence'))} {fence_open.group('fence')[0]!r}",
            )
        if cell_open and cell_open.group("lang") == EXECUTED_LANGUAGE:
            indent = len(cell_open.group("indent"))
            body = [_dedent(raw, indent) for raw in lines[i + 1 : close]]
            cells.append(_make_cell(len(cells), body, i + 2, path, load))
        prose.append((i + 1, ""))  # a fence ends a paragraph for code-span pairing
        i = close + 1
    return text, front_matter, cells, prose


def _front_matter(lines: list[str], path: Path, load: YamlLoader) -> tuple[dict[str, Any], int]:
    """YAML front matter: a ``---`` line first in the file (blank lines aside), not followed by a
    blank line, closed by ``---`` or ``...``. Returns the mapping and the first body line index."""
    start = next((i for i, line in enumerate(lines) if line.strip()), None)
    if start is None or not _YAML_OPEN.match(lines[start]):
        return {}, 0
    if start + 1 >= len(lines) or not lines[start + 1].strip():
        return {}, 0  # "---" then a blank line is a thematic break, not metadata
    end = next((j for j in range(start + 1, len(lines)) if _YAML_CLOSE.match(lines[j])), None)
    if end is None:
        raise QmdError(path, start + 1, "unclosed YAML front matter: no closing '---'")
    data = load("\n".join(lines[start + 1 : end]), path, start + 2, "front matter")
    return data, end + 1


def _is_not_a_fence(match: re.Match[str]) -> bool:
    """CommonMark: a backtick fence's info string holds no backtick (that line is code)."""
    info = match.groupdict().get("info")
    return info is not None and match.group("fence")[0] == "`" and "`" in info


def _find_close(lines: list[str], start: int, fence: str) -> int | None:
    for j in range(start, len(lines)):
        close = _FENCE_CLOSE.match(lines[j])
        if (
            close
            and close.group("fence")[0] == fence[0]
            and len(close.group("fence")) >= len(fence)
        ):
            return j
    return None


def _dedent(line: str, width: int) -> str:
    """Remove up to ``width`` leading whitespace characters (the opening fence's indent)."""
    stripped = 0
    while stripped < width and stripped < len(line) and line[stripped] in " \t":
        stripped += 1
    return line[stripped:]


def _make_cell(index: int, body: list[str], start_line: int, path: Path, load: YamlLoader) -> Cell:
    option_lines = []
    for line in body:
        match = _OPTION_LINE.match(line)
        if match is None:
            break
        option_lines.append(match.group("yaml"))
    options = load("\n".join(option_lines), path, start_line, "cell options")
    return Cell(index=index, source="\n".join(body), start_line=start_line, options=options)


def _skip_yaml(text: str, path: Path, first_line: int, what: str) -> dict[str, Any]:
    """A loader that reads nothing (PyYAML is most of a parse's time)."""
    return {}


def _load_yaml(text: str, path: Path, first_line: int, what: str) -> dict[str, Any]:
    """Parse a YAML mapping whose first line is ``.qmd`` line ``first_line``; empty -> {}."""
    import yaml

    try:
        data = yaml.safe_load(text) if text.strip() else {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = first_line + (mark.line if mark is not None else 0)
        problem = getattr(exc, "problem", None) or str(exc)
        raise QmdError(path, line, f"invalid YAML in {what}: {problem}") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise QmdError(
            path, first_line, f"{what} must be a YAML mapping, got {type(data).__name__}"
        )
    return data


def _paragraphs(
    prose: list[tuple[int, str]], cells: list[Cell]
) -> Iterator[tuple[str, list[tuple[InlineExpr, int, int]]]]:
    """Each prose paragraph's text and its inline `` `{python} expr` `` with their (start, end)
    offsets in it (code spans may wrap lines but never cross a blank line or a fence)."""
    count = 0
    paragraph: list[tuple[int, str]] = []
    for lineno, line in [*prose, (0, "")]:
        if line.strip():
            paragraph.append((lineno, line))
            continue
        if paragraph:
            found = _scan_paragraph(paragraph, cells, count)
            count += len(found)
            yield "\n".join(text for _, text in paragraph), found
            paragraph = []


def _scan_paragraph(
    paragraph: list[tuple[int, str]], cells: list[Cell], first_index: int
) -> list[tuple[InlineExpr, int, int]]:
    text = "\n".join(line for _, line in paragraph)
    starts = []  # offset of each line's first character in ``text``
    offset = 0
    for _, line in paragraph:
        starts.append(offset)
        offset += len(line) + 1

    found: list[tuple[InlineExpr, int, int]] = []
    pos = 0
    while (run := _BACKTICK_RUN.search(text, pos)) is not None:
        if len(run.group()) > 1:  # a code span of a longer run hides what it holds
            closer = _matching_run(text, run.end(), len(run.group()))
            pos = closer.end() if closer is not None else run.end()
            continue
        expr = _INLINE_EXPR.match(text, run.start())
        if expr is None:
            pos = run.end()
            continue
        row = max(k for k, start in enumerate(starts) if start <= run.start())
        lineno = paragraph[row][0]
        inline = InlineExpr(
            index=first_index + len(found),
            code=expr.group("expr").strip(),
            line=lineno,
            column=run.start() - starts[row] + 1,
            cells_before=sum(1 for cell in cells if cell.start_line < lineno),
        )
        found.append((inline, run.start(), expr.end()))
        pos = expr.end()
    return found


def _matching_run(text: str, start: int, length: int) -> re.Match[str] | None:
    """The next backtick run of exactly ``length`` after ``start`` (CommonMark code span end)."""
    for run in _BACKTICK_RUN.finditer(text, start):
        if len(run.group()) == length:
            return run
    return None
