"""``mlsysim check`` (and ``python -m invariants``): verify a book's published numbers.

Exit codes: 0 every check and golden holds; 1 a check failed or a golden shifted (or, under
``--strict``, a value is new or missing); 2 an execution or usage error.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

_STATE_STYLE = {
    "queued": "dim",
    "running": "cyan",
    "cached": "green",
    "passed": "green",
    "failed": "bold red",
    "error": "bold magenta",
}


def register(app: typer.Typer) -> None:
    """Add the ``check`` command to ``app`` (the ``mlsysim`` CLI or the standalone one)."""
    app.command(
        "check",
        help="Run every chapter's cells, collect check() results and golden snapshots, "
        "and fail on a broken check or a shifted number.",
    )(check_command)


def check_command(
    paths: Annotated[
        Optional[list[Path]],  # noqa: UP045 (typer reads the annotation at runtime)
        typer.Argument(
            help="A book folder (chapters from _quarto.yml, else every .qmd) or chapters. "
            "Default: the current Quarto project, else the bundled sample book.",
            show_default=False,
        ),
    ] = None,
    update: Annotated[
        bool, typer.Option("--update", help="Rewrite golden files to match.")
    ] = False,
    jobs: Annotated[
        Optional[int],  # noqa: UP045
        typer.Option(
            "--jobs",
            "-j",
            min=1,
            help="Chapters run at once (default: CPU count).",
            show_default=False,
        ),
    ] = None,
    timeout: Annotated[
        float, typer.Option("--timeout", min=1, help="Seconds per cell (whole seconds).")
    ] = 60.0,
    strict: Annotated[
        bool, typer.Option("--strict/--no-strict", help="New or missing golden values fail.")
    ] = True,
    json_path: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option(
            "--json",
            help="Write the JSON report here (default: <book>/.invariants/report.json).",
            show_default=False,
        ),
    ] = None,
    junit_path: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option("--junit", help="Also write a JUnit XML report.", show_default=False),
    ] = None,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Run every chapter.")] = False,
) -> None:
    from rich.console import Console

    from invariants.book import BookError
    from invariants.check import check_book

    console = Console()
    display = _Progress(console)
    try:
        with display:
            report = check_book(
                paths or (),
                update=update,
                jobs=jobs,
                timeout=timeout,
                strict=strict,
                use_cache=not no_cache,
                json_path=json_path,
                junit_path=junit_path,
                progress=display.update,
            )
    except BookError as exc:
        console.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None
    if update:
        _print_updates(console, report)
    report.render_console(console, max_failures=5)
    raise typer.Exit(report.exit_code)


class _Progress:
    """Each chapter's state: a live table on a terminal, one line per finished chapter else."""

    def __init__(self, console: Any) -> None:
        self.console = console
        self.states: dict[str, str] = {}
        self.live: Any = None

    def __enter__(self) -> _Progress:
        if self.console.is_terminal:
            from rich.live import Live

            self.live = Live(
                self._table(), console=self.console, transient=True, refresh_per_second=8
            )
            self.live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.live is not None:
            self.live.__exit__(*exc)

    def update(self, event: Any) -> None:
        self.states[event.path] = event.state
        if self.live is not None:
            self.live.update(self._table())
        elif event.report is not None:
            style = _STATE_STYLE.get(event.state, "")
            run = event.report.run
            took = "" if event.report.cached or run is None else f" ({run.duration_s:.1f} s)"
            self.console.print(f"[{style}]{event.state:>7}[/] {event.path}{took}", highlight=False)

    def _table(self) -> Any:
        from rich.table import Table

        table = Table.grid(padding=(0, 2))
        for path, state in self.states.items():
            style = _STATE_STYLE.get(state, "")
            table.add_row(f"[{style}]{state}[/]", path)
        return table


def _print_updates(console: Any, report: Any) -> None:
    """What ``--update`` changed, chapter by chapter: key: old → new."""
    from invariants.render import change_text

    for chapter in report.chapters:
        changed = [f for f in chapter.findings if f.status != "ok"]
        if not changed:
            continue
        console.print(f"[bold]{chapter.path}[/]", highlight=False)
        for finding in changed:
            console.print(
                f"  {change_text(finding, width=8)}",
                highlight=False,
                markup=False,
                soft_wrap=True,
            )


def standalone_app() -> typer.Typer:
    """``python -m invariants``: the ``check`` command as the whole program."""
    app = typer.Typer(
        name="invariants", add_completion=False, help="Verify a Quarto book's computed numbers."
    )
    register(app)
    return app


def main(argv: list[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["check"] and not Path("check").exists():
        args = args[1:]  # `python -m invariants check BOOK` reads like `mlsysim check BOOK`
    standalone_app()(args, prog_name="python -m invariants")
