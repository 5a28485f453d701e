"""The ``mlsysim`` command: ``check`` (the book verifier), napkin math (``solve``, ``serve``,
``train``, ``catalog``) and ``quarto install``. Each command group lives beside what it drives
and registers itself here; heavy imports happen inside the commands."""

from __future__ import annotations

import typer


def build_app() -> typer.Typer:
    from invariants.cli import register as register_check
    from mlsysim.core.cli import register as register_napkin_math
    from mlsysim.quarto_install import register as register_quarto

    app = typer.Typer(
        name="mlsysim",
        help="ML systems napkin math with units, and the book's invariant checker.",
        no_args_is_help=True,
        add_completion=False,
    )
    app.callback(invoke_without_command=True)(_options)
    register_check(app)
    register_napkin_math(app)
    register_quarto(app)
    return app


def _options(
    version: bool = typer.Option(
        False, "--version", help="print the mlsysim version and exit", is_eager=True
    ),
) -> None:
    """ML systems napkin math with units, and the book's invariant checker."""
    if version:
        from mlsysim import __version__

        typer.echo(f"mlsysim {__version__}")
        raise typer.Exit()


def main() -> None:
    build_app()()
