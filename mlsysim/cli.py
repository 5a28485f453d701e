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
    register_check(app)
    register_napkin_math(app)
    register_quarto(app)
    return app


def main() -> None:
    build_app()()
