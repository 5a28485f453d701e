"""The margin of a value against a limit, shared by scenario checks and lab constraints.

``margin`` = limit - achieved for a maximum, achieved - limit for a minimum (in the limit's
units), so a negative margin is a violation; ``margin_fraction`` = margin / limit.
"""

from __future__ import annotations

from typing import Any


class LimitMargin:
    """Mixin for a record with ``achieved``, ``limit`` (Quantities) and ``kind`` ("max"/"min")."""

    achieved: Any
    limit: Any
    kind: str

    @property
    def margin(self) -> Any:
        diff = self.limit - self.achieved.to(self.limit.units)
        return diff if self.kind == "max" else -diff

    @property
    def margin_fraction(self) -> float:
        return float((self.margin / self.limit).m_as(""))
