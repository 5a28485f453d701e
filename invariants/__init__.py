"""invariants: the build-time verifier of a Quarto book's computed numbers.

It reads each chapter (``.qmd``), runs its cells on a Jupyter kernel through nbclient with
``check()`` in collect mode, compares every published inline value and ``check.golden`` with the
chapter's golden snapshot, and fails the build on a broken check or a shifted number. It knows
nothing of any physics library: the only contract is ``invariants.protocol``.
"""

__version__ = "0.1.0"
