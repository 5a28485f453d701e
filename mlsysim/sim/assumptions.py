"""Sourced-or-assumed values for the simulations: the catalog's value when it has one, else the
labelled assumption in ``sim/data/assumptions.yaml``, else a ``CatalogError`` naming the gap.

Never a fallback from an unrelated part (an MCU is never priced like a GPU).
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from mlsysim.errors import CatalogError

ASSUMPTIONS_FILE = Path(__file__).with_name("data") / "assumptions.yaml"


@functools.cache
def _table() -> dict:
    import yaml

    with open(ASSUMPTIONS_FILE, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def _assumed(path: tuple[str, ...]) -> tuple[Any, Any] | None:
    """(Quantity, Source) for a dotted path in the assumptions file, or None."""
    from mlsysim.core.catalogs import Source
    from mlsysim.core.units import Q_

    node: Any = _table()
    for key in path:
        if not isinstance(node, dict) or key not in node:
            return None
        node = node[key]
    value = node["value"]
    if isinstance(value, str):
        number, _, unit = value.partition(" ")
        quantity = Q_(float(number), unit)
    else:
        quantity = Q_(float(value), "")
    source = Source(
        title="mlsysim.sim labelled assumption",
        url=None,
        date=str(_table().get("reviewed", "")),
        note=node.get("note"),
        kind="assumption",
        key=".".join(path),
    )
    return quantity, source


def assumption(*path: str) -> tuple[Any, Any]:
    """(Quantity, Source) of a required entry: ``assumption("training", "restart_time")``."""
    found = _assumed(path)
    if found is None:
        raise CatalogError(f"{ASSUMPTIONS_FILE.name} has no entry {'.'.join(path)}")
    return found


def hardware_value(hardware: Any, field: str, purpose: str, required: bool = True):
    """(Quantity, Source) of ``hardware.<field>``: catalog first, then the labelled assumption.

    Missing in both -> ``CatalogError`` naming the part, the field and what needed it (or
    None when ``required`` is False).
    """
    value = getattr(hardware, field, None)
    if value is not None:
        return value, hardware.provenance.get(field)
    found = _assumed(("hardware", hardware.name, field))
    if found is not None:
        return found
    if not required:
        return None
    raise CatalogError(
        f"{hardware.name} has no sourced {field!r} in the hardware catalog and no labelled "
        f"assumption in mlsysim/sim/data/{ASSUMPTIONS_FILE.name}; {purpose} needs it "
        f"(mlsysim never borrows it from another part)"
    )
