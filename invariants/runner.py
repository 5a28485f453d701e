"""Execute one chapter on a Jupyter kernel, as Quarto would, and collect what it published.

The chapter becomes one nbformat notebook run by nbclient on a fresh ``python3`` ipykernel:
a hidden prologue (cwd = the chapter's folder, an audit hook on ``open``), the executable cells
in order (``eval: false`` skipped), after each cell the inline expressions that follow it (text
= markdown repr if any, else ``str``), and a hidden epilogue reporting the files the kernel
imported and opened (for the result cache). ``check()`` records arrive as display outputs under
``invariants.protocol.MIME_CHECK`` and are placed at their ``.qmd`` line (a check written in a
helper module: at the line of the chapter's call into it).
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from invariants.model import (
    Cell,
    Chapter,
    ChapterRun,
    CheckOutcome,
    ExecutionError,
    InlineExpr,
    InlineValue,
    SourceLocation,
)
from invariants.protocol import MIME_CHECK, CheckRecord, ProtocolError

MIME_INLINE = "application/vnd.mlsysim.inline+json"
MIME_DEPS = "application/vnd.mlsysim.deps+json"
_TIMEOUT_ENAME = "InvariantsCellTimeout"
_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]")
_CELL_FRAME = re.compile(r"Cell In\[(\d+)\], line (\d+)")
_CELL_FILE = re.compile(r" \(\d+\.py, line \d+\)")  # SyntaxError names the kernel's cell file
_HELPER = "__invariants__"
_VERIFIER_OWN = "invariants_own"  # metadata of the runner's own cells (set-up, dependencies)
_NAME_ERROR = re.compile(r"NameError: name '(\w+)' is not defined")
_IDENTIFIER = re.compile(r"\b(?!\d)\w+")

# Kernel-side helper: plain Python, imports nothing of mlsysim (duck-typed published values).
# It runs in the kernel's environment, which need not have invariants installed, so its
# `_number`/`describe` restate invariants.protocol's `_plain_number`/`published_value`:
# keep the two in step (test_the_real_mlsysim_check_speaks_to_the_runner pins the units).
_KERNEL_CODE = r"""
class __invariants__:
    import os as _os, sys as _sys
    opened = set()

    @classmethod
    def setup(cls, cwd):
        cls._os.chdir(cwd)
        cls._os.environ["PWD"] = cwd
        opened, fspath, abspath = cls.opened, cls._os.fspath, cls._os.path.abspath

        def hook(event, args):
            if event != "open" or not args:
                return
            try:
                mode = args[1] if len(args) > 1 else None
                if isinstance(mode, str) and "r" not in mode and "+" not in mode:
                    return
                path = args[0]
                if isinstance(path, int):
                    return
                path = fspath(path)
                if isinstance(path, bytes):
                    path = path.decode(errors="replace")
                opened.add(abspath(path))
            except Exception:
                pass

        cls._sys.addaudithook(hook)

    @staticmethod
    def _number(value):
        import math, numbers
        if value is None:
            return None
        if hasattr(value, "tolist"):
            value = value.tolist()
        if isinstance(value, list):
            items = [__invariants__._number(v) for v in value]
            return items if all(isinstance(v, float) for v in items) else None
        if isinstance(value, numbers.Real) and not isinstance(value, bool):
            number = float(value)
            return number if math.isfinite(number) else None
        return None

    @classmethod
    def describe(cls, value, text):
        hook = getattr(value, "_invariants_value_", None)
        if callable(hook):
            described = hook()
            return cls._number(described.get("magnitude")), described.get("unit")
        if hasattr(value, "magnitude") and hasattr(value, "units"):
            try:  # pint's long name, as invariants.protocol.published_value publishes it
                unit = format(value.units, "D")
            except (TypeError, ValueError):
                unit = str(value.units)
            return cls._number(value.magnitude), (unit if unit != "dimensionless" else None)
        return cls._number(value), None

    @classmethod
    def inline(cls, exprs):
        from IPython import get_ipython
        from IPython.display import display
        shell = get_ipython()
        markdown = shell.display_formatter.formatters["text/markdown"]
        for index, code in exprs:
            payload = {"index": index}
            try:
                value = eval(code, shell.user_ns)
                text = markdown(value)
                if isinstance(text, tuple):
                    text = text[0]
                payload["text"] = text if isinstance(text, str) else str(value)
                payload["magnitude"], payload["unit"] = cls.describe(value, payload["text"])
            except Exception as exc:  # an interrupt (the timeout) aborts the batch
                payload["error"] = f"{type(exc).__name__}: {exc}"
            display({"@MIME_INLINE@": payload}, raw=True)

    @classmethod
    def deps(cls):
        import sysconfig
        from IPython import get_ipython
        from IPython.display import display
        modules = sorted({
            f for m in list(cls._sys.modules.values())
            if isinstance(f := getattr(m, "__file__", None), str)
        })
        paths = sysconfig.get_paths()
        display({"@MIME_DEPS@": {
            "modules": modules,
            "opened": sorted(cls.opened),
            "site": sorted({paths["purelib"], paths["platlib"]}),
            "cells": get_ipython().compile._filename_map,
        }}, raw=True)
""".replace("@MIME_INLINE@", MIME_INLINE).replace("@MIME_DEPS@", MIME_DEPS)


@dataclass
class RunOptions:
    """How chapters run. ``timeout`` (s) bounds each cell: the kernel is interrupted, the cell
    reported, and the next cell runs. ``watch_roots``: folders whose files, when the kernel
    opens them, become cache dependencies (site-packages always counts)."""

    timeout: float = 60
    kernel_name: str = "python3"
    startup_timeout: float = 60
    env: dict[str, str] = field(default_factory=dict)
    watch_roots: tuple[Path, ...] = ()


def run_chapter(
    chapter: Chapter, options: RunOptions | None = None, kernel: Any = None
) -> ChapterRun:
    """Execute ``chapter`` on a fresh kernel and return its run. Usable from a thread that
    already runs an event loop (a notebook): the work then runs on a helper thread. ``kernel``
    (an ``invariants.kernels.Kernel`` started on the same loop) belongs to the async API."""
    work = run_chapter_async(chapter, options or RunOptions(), kernel)
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(work)
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=1) as thread:
        return thread.submit(asyncio.run, work).result()


async def run_chapter_async(
    chapter: Chapter, options: RunOptions, kernel: Any = None
) -> ChapterRun:
    """The async runner; ``kernel`` is an ``invariants.kernels.Kernel`` it then owns."""
    from invariants.kernels import KernelStartError, start_kernel

    started = time.perf_counter()
    if kernel is None:
        try:
            kernel = await start_kernel(
                options.kernel_name,
                cwd=chapter.path.parent,
                env=options.env,
                startup_timeout=options.startup_timeout,
            )
        except KernelStartError as exc:
            kind = "no_kernel" if exc.no_kernel else "kernel_died"
            error = ExecutionError(kind=kind, message=str(exc))
            return ChapterRun(chapter=chapter.path, cells_run=0, errors=(error,))
    try:
        execution = _Execution(chapter, options, kernel)
        await execution.run()
    finally:
        await kernel.shutdown()
    return execution.result(time.perf_counter() - started)


class _Execution:
    """The state of one chapter's execution: the notebook, outputs, errors."""

    def __init__(self, chapter: Chapter, options: RunOptions, kernel: Any) -> None:
        import nbformat
        from nbclient import NotebookClient

        self.chapter = chapter
        self.options = options
        self.cells_run = 0
        self.checks: list[CheckOutcome] = []
        self.inline: dict[int, InlineValue] = {}
        self.errors: list[ExecutionError] = []
        self.deps: dict[str, Any] | None = None
        self.count_to_cell: dict[int, Cell] = {}
        self.nb = nbformat.v4.new_notebook()
        self.nb.metadata["kernelspec"] = {
            "name": options.kernel_name,
            "display_name": options.kernel_name,
            "language": "python",
        }
        self.client = NotebookClient(
            self.nb,
            km=kernel.manager,
            kernel_name=options.kernel_name,
            timeout=max(1, round(options.timeout)),
            timeout_func=self._timeout_of,
            interrupt_on_timeout=True,
            error_on_timeout={
                "ename": _TIMEOUT_ENAME,
                "evalue": f"cell exceeded the {options.timeout:g} s timeout",
                "traceback": [],
            },
            allow_errors=False,
            record_timing=False,
            on_cell_executed=self._on_executed,
        )
        self.client.kc = kernel.client
        self._last_count: int | None = None
        self._emitting_cell: list[Cell | InlineExpr | None] = []
        self._unbound: dict[str, int] = {}  # a name a failed cell may not have bound -> root line

    def _on_executed(self, cell: Any, cell_index: int, execute_reply: dict[str, Any]) -> None:
        self._last_count = execute_reply.get("content", {}).get("execution_count")

    def _timeout_of(self, node: Any) -> int:
        """A chapter's cell (or inline expression) gets the author's ``timeout``; the
        verifier's own set-up and dependency cells get the kernel start-up budget, so a slow
        moment on a busy machine never fails a chapter for code its author did not write."""
        seconds = self.options.startup_timeout if _VERIFIER_OWN in node.metadata else None
        return max(1, round(seconds or self.options.timeout))

    async def _execute(self, source: str, *, store_history: bool, own: bool = False) -> Any:
        import nbformat

        node = nbformat.v4.new_code_cell(source, metadata={_VERIFIER_OWN: True} if own else {})
        self.nb.cells.append(node)
        self._last_count = None
        return await self.client.async_execute_cell(
            node, len(self.nb.cells) - 1, store_history=store_history
        )

    async def run(self) -> None:
        from nbclient.exceptions import CellExecutionError, DeadKernelError

        chapter = self.chapter
        inline_after: dict[int, list[InlineExpr]] = {}
        for expr in chapter.inline:
            inline_after.setdefault(min(expr.cells_before, len(chapter.cells)), []).append(expr)
        try:
            setup = f"{_KERNEL_CODE}\n{_HELPER}.setup({str(chapter.path.parent.resolve())!r})"
            await self._execute(setup, store_history=False, own=True)
            await self._run_inline(inline_after.get(0, []))
            for position, cell in enumerate(chapter.cells, start=1):
                if cell.evaluate:
                    await self._run_cell(cell)
                await self._run_inline(inline_after.get(position, []))
            node = await self._execute(f"{_HELPER}.deps()", store_history=False, own=True)
            self._collect(node, None)
        except DeadKernelError:  # reported with the cell or expression that killed it
            if not any(error.kind == "kernel_died" for error in self.errors):
                message = f"the kernel died in the verifier's own code ({chapter.path.name})"
                self.errors.append(ExecutionError(kind="kernel_died", message=message))
        except CellExecutionError as exc:  # a helper cell failed: report, do not hide it
            if exc.ename == _TIMEOUT_ENAME:
                seconds = self.options.startup_timeout
                message = f"the verifier's own code did not finish within {seconds:g} s"
                self.errors.append(ExecutionError(kind="timeout", message=message))
            else:
                message = f"verifier helper failed: {exc}"
                self.errors.append(ExecutionError(kind="exception", message=message))

    async def _run_cell(self, cell: Cell) -> None:
        from nbclient.exceptions import CellExecutionError, DeadKernelError

        self.cells_run += 1
        where = f"{self.chapter.path.name}:{cell.start_line}"
        try:
            node = await self._execute(cell.source, store_history=True)
        except DeadKernelError:
            self.errors.append(
                ExecutionError(
                    kind="kernel_died",
                    message=f"the kernel died while running {cell.describe()} ({where})",
                    line=cell.start_line,
                    cell=cell.label,
                )
            )
            raise
        except CellExecutionError as exc:
            count = self._last_count or self._count_guess()
            self.count_to_cell[count] = cell
            self._collect(self.nb.cells[-1], cell)
            if exc.ename == _TIMEOUT_ENAME:  # the interrupt's traceback says where it spun
                traceback, line = self._traceback(cell, count, exc)
                error = ExecutionError(
                    kind="timeout",
                    message=f"{cell.describe()} ({self.chapter.path.name}:{line}) exceeded "
                    f"the {self.options.timeout:g} s timeout; interrupted",
                    line=line,
                    cell=cell.label,
                    traceback=traceback,
                )
            elif not cell.allows_error:
                error = self._exception_error(cell, count, exc)
            else:
                return
            self.errors.append(error)
            root = error.follows if error.follows is not None else error.line
            for name in _IDENTIFIER.findall(cell.source):
                self._unbound.setdefault(name, root)
            return
        count = self._last_count or self._count_guess()
        self.count_to_cell[count] = cell
        self._collect(node, cell)

    def _count_guess(self) -> int:
        return max(self.count_to_cell, default=0) + 1

    def _traceback(self, cell: Cell, count: int, exc: Any) -> tuple[str, int]:
        """The cell's error traceback without colour, and the ``.qmd`` line of its deepest
        frame in this cell (``Cell In[count], line k``); the cell's first line if none."""
        frames = [
            line
            for output in self.nb.cells[-1].get("outputs", [])
            if output.get("output_type") == "error"
            for line in output.get("traceback", [])
        ]
        traceback = strip_ansi("\n".join(frames) or str(getattr(exc, "traceback", "")))
        line = cell.start_line
        for number, cell_line in _CELL_FRAME.findall(traceback):
            if int(number) == count:
                line = cell.qmd_line(int(cell_line))
        return traceback, line

    def _exception_error(self, cell: Cell, count: int, exc: Any) -> ExecutionError:
        traceback, line = self._traceback(cell, count, exc)
        evalue = _CELL_FILE.sub("", strip_ansi(str(exc.evalue)))
        return ExecutionError(
            kind="exception",
            message=f"{exc.ename}: {evalue} in {cell.describe()} ({self.chapter.path.name}:{line})",
            line=line,
            cell=cell.label,
            traceback=traceback,
            follows=self._follows(f"{exc.ename}: {evalue}"),
        )

    def _follows(self, error: str) -> int | None:
        """For ``NameError: name 'x' is not defined`` where ``x`` occurs in a cell that failed
        earlier (so it may never have been bound): the line of that failure's root cause."""
        match = _NAME_ERROR.match(error)
        return self._unbound.get(match.group(1)) if match else None

    async def _run_inline(self, exprs: list[InlineExpr]) -> None:
        from nbclient.exceptions import CellExecutionError, DeadKernelError

        if not exprs:
            return
        pairs = [(expr.index, expr.code) for expr in exprs]
        try:
            node = await self._execute(f"{_HELPER}.inline({pairs!r})", store_history=False)
        except (CellExecutionError, DeadKernelError) as exc:
            self._read_inline(self.nb.cells[-1], exprs)  # the values that came before
            pending = [e for e in exprs if e.index not in self.inline] or exprs[-1:]
            names = [f"`{{python}} {e.code}` ({self.chapter.path.name}:{e.line})" for e in pending]
            stuck = pending[0]
            what = f"inline {names[0]}"
            if isinstance(exc, DeadKernelError):  # outputs sent just before a death may be lost
                what = what if len(names) == 1 else f"one of the inline {', '.join(names)}"
                message = f"the kernel died while evaluating {what}"
                self.errors.append(ExecutionError("kernel_died", message, line=stuck.line))
                raise
            if exc.ename != _TIMEOUT_ENAME:
                raise
            message = f"{what} exceeded the {self.options.timeout:g} s timeout; interrupted"
            self.errors.append(ExecutionError("timeout", message, line=stuck.line))
            return
        self._read_inline(node, exprs)

    def _read_inline(self, node: Any, exprs: list[InlineExpr]) -> None:
        """Each expression's value, and the check() records its evaluation published (they
        arrive before its value): placed at the expression's prose line, never dropped."""
        by_index = {expr.index: expr for expr in exprs}
        checks: list[Any] = []
        for output in node.get("outputs", []):
            data = output.get("data", {})
            if MIME_CHECK in data:
                checks.append(data[MIME_CHECK])
                continue
            payload = data.get(MIME_INLINE)
            if not payload:
                continue
            expr = by_index[payload["index"]]
            for check in checks:
                self._add_check(check, expr)
            checks = []
            if payload.get("error"):
                self.errors.append(
                    ExecutionError(
                        kind="exception",
                        message=f"inline `{{python}} {expr.code}` raised {payload['error']} "
                        f"({self.chapter.path.name}:{expr.line})",
                        line=expr.line,
                        follows=self._follows(payload["error"]),
                    )
                )
            self.inline[expr.index] = InlineValue(
                expr=expr,
                text=payload.get("text"),
                magnitude=payload.get("magnitude"),
                unit=payload.get("unit"),
                error=payload.get("error"),
            )
        if checks:  # cut short (timeout, death): the first expression with no value sent them
            stuck = next((e for e in exprs if e.index not in self.inline), exprs[-1])
            for check in checks:
                self._add_check(check, stuck)

    def _collect(self, node: Any, cell: Cell | None) -> None:
        for output in node.get("outputs", []):
            data = output.get("data", {})
            if MIME_DEPS in data:
                self.deps = data[MIME_DEPS]
            if MIME_CHECK in data:
                self._add_check(data[MIME_CHECK], cell)

    def _add_check(self, payload: Any, origin: Cell | InlineExpr | None) -> None:
        """Keep one check() record with where it came from: a cell, an inline expression."""
        label = origin.label if isinstance(origin, Cell) else None
        if isinstance(payload, str):
            payload = json.loads(payload)
        try:
            record = CheckRecord.from_json(payload)
        except ProtocolError as exc:
            where = origin.start_line if isinstance(origin, Cell) else origin and origin.line
            message = f"a check() record broke the protocol: {exc}"
            self.errors.append(ExecutionError("exception", message, line=where, cell=label))
            return
        self.checks.append(CheckOutcome(record=record, line=None, cell=label))
        self._emitting_cell.append(origin)

    def result(self, duration: float) -> ChapterRun:
        checks = self._place_checks()
        inline = tuple(
            self.inline[expr.index] for expr in self.chapter.inline if expr.index in self.inline
        )
        return ChapterRun(
            chapter=self.chapter.path,
            cells_run=self.cells_run,
            checks=checks,
            inline=inline,
            errors=tuple(self.errors),
            duration_s=duration,
            dependencies=self._dependencies(),
        )

    def _place_checks(self) -> tuple[CheckOutcome, ...]:
        """Map each record to its ``.qmd`` line. Written in a cell: that line of that cell.
        Written in a module on disk: the line of the cell code that called into it (the
        record's ``cell_file``/``cell_line``), else the first line of the cell whose output
        carried it; the module's ``file:line`` is kept as the outcome's ``source``. Published
        while evaluating an inline expression: that expression's prose line."""
        placed = []
        for outcome, emitting in zip(self.checks, self._emitting_cell, strict=True):
            record = outcome.record
            if isinstance(emitting, InlineExpr):  # published while evaluating prose
                source = None
                if os.path.isfile(record.file):
                    source = SourceLocation(self._display_path(record.file), record.line)
                placed.append(CheckOutcome(record, emitting.line, None, source))
                continue
            cell = self._cell_of(record.file, emitting)
            if cell is not None:
                placed.append(CheckOutcome(record, cell.qmd_line(record.line), cell.label))
                continue
            source = SourceLocation(self._display_path(record.file), record.line)
            caller = self._cell_of(record.cell_file, emitting) if record.cell_file else None
            if caller is not None and record.cell_line is not None:
                line, label = caller.qmd_line(record.cell_line), caller.label
            elif emitting is not None:
                line, label = emitting.start_line, emitting.label
            else:
                line, label = None, None
            placed.append(CheckOutcome(record, line, label, source))
        return tuple(placed)

    def _cell_of(self, file: str, emitting: Cell | None) -> Cell | None:
        """The cell whose code ``file`` is, through IPython's cell-file → execution-count map;
        a name missing from the map that is no file on disk is the cell whose output carried
        the record; None for a module on disk."""
        count = (self.deps or {}).get("cells", {}).get(file)
        cell = self.count_to_cell.get(count) if count is not None else None
        if cell is None and not os.path.isfile(file):
            cell = emitting
        return cell

    def _display_path(self, file: str) -> str:
        """``file`` relative to the chapter's folder (POSIX) when inside it, else absolute."""
        folder = self.chapter.path.parent.resolve()
        path = (folder / file).resolve()  # a relative module path is the kernel's cwd's
        return path.relative_to(folder).as_posix() if path.is_relative_to(folder) else str(path)

    def _dependencies(self) -> tuple[str, ...]:
        if not self.deps:
            return ()
        roots = [Path(p) for p in self.deps.get("site", [])]
        roots += [Path(p).resolve() for p in self.options.watch_roots]
        roots.append(self.chapter.path.parent.resolve())
        files = set(self.deps.get("modules", []))
        for path in self.deps.get("opened", []):
            resolved = Path(path).resolve()
            if resolved.is_file() and any(resolved.is_relative_to(r) for r in roots):
                files.add(str(resolved))
        return tuple(sorted(f for f in files if os.path.isfile(f)))


def strip_ansi(text: str) -> str:
    """``text`` without ANSI colour escapes (IPython colours its tracebacks)."""
    return _ANSI.sub("", text)
