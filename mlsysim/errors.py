"""mlsysim's typed errors. Each names what was wrong and what would have been valid."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class MlsysimError(Exception):
    """Base class of every error mlsysim raises on purpose."""


class UnknownNameError(MlsysimError, KeyError):
    """A catalog, precision, region or choice name that does not exist.

    Lists the closest valid names, so ``Hardware["H10"]`` says ``did you mean 'H100', 'H200'?``.
    """

    def __init__(self, kind: str, name: str, valid: Iterable[str]):
        self.kind = kind
        self.name = name
        self.valid = sorted(valid)
        self.suggestions = _closest(str(name), self.valid)
        super().__init__(self._message())

    def _message(self) -> str:
        hint = ""
        if self.suggestions:
            hint = " Did you mean " + ", ".join(repr(s) for s in self.suggestions) + "?"
        return f"unknown {self.kind} {self.name!r}.{hint} Valid: {', '.join(self.valid)}."

    def __str__(self) -> str:  # KeyError would otherwise repr() the message
        return self._message()


def _closest(name: str, valid: list[str]) -> list[str]:
    """Up to 3 close names (difflib): a name equal to ``name`` ignoring case comes first, so
    ``"h100"`` suggests ``'H100'`` before ``'V100'``."""
    same = [v for v in valid if v.lower() == name.lower()]
    close = difflib.get_close_matches(name, valid, n=3, cutoff=0.4)
    return (same + [v for v in close if v not in same])[:3]


class CatalogError(MlsysimError, ValueError):
    """A malformed, unsourced or mis-united catalog YAML entry; names file, entry and field."""


class ChoiceError(MlsysimError, ValueError):
    """A simulation choice outside its allowed values or range."""


class FormatError(MlsysimError, ValueError):
    """A number that would print misleadingly (a nonzero value shown as 0, hidden precision)."""


class InvariantError(MlsysimError, AssertionError):
    """A failed ``check()`` guard: the narrative no longer matches the math."""
