"""pytest plugin of the invariants verifier (entry point ``pytest11`` = ``invariants.plugin``).

Importing it must stay cheap and side-effect free: every pytest run in this environment loads it.
"""

from __future__ import annotations

from typing import Any


def pytest_addoption(parser: Any) -> None:
    group = parser.getgroup("invariants", "check a Quarto book's computed numbers")
    group.addoption(
        "--invariants",
        action="store",
        dest="invariants_book",
        default=None,
        metavar="BOOK_DIR",
        help="Run every chapter of the Quarto book in BOOK_DIR as a test item.",
    )
