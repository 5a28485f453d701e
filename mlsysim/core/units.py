"""The one pint registry of mlsysim, exported as ``mlsysim.ureg`` and ``mlsysim.Q_``.

pint's default definitions plus the units ML systems need (``units_definitions.txt``):
``flop``/``FLOP`` (its own dimension), ``FLOPs`` = FLOP/s, ``MAC`` = 2 FLOP, the counting units
``token``, ``sample`` and ``param``, ``USD``, and ``gCO2e``/``kgCO2e``/``tCO2e``.
Decimal and binary bytes stay distinct: ``GB`` = 1e9 byte, ``GiB`` = 2**30 byte.

The registry is built on first use, not at import, and pint's disk cache
(``cache_folder=":auto:"``) makes later builds ~10x faster.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pint

DEFINITIONS = Path(__file__).with_name("units_definitions.txt")


@functools.cache
def get_registry() -> pint.UnitRegistry:
    """Build (once) and return the application registry."""
    import pint

    registry_class = _registry_class()
    try:
        registry = registry_class(cache_folder=":auto:", on_redefinition="ignore")
    except OSError:  # an unwritable cache must not stop a student
        registry = registry_class(on_redefinition="ignore")
    registry.load_definitions(str(DEFINITIONS))
    _forget_dimensions_of_the_defaults(registry)
    registry.formatter.default_format = "~P"
    pint.set_application_registry(registry)
    return registry


def _registry_class() -> type:
    """pint's ``UnitRegistry``, with ``get_compatible_units`` that works after a lazy build.

    pint lists a unit's compatible units from a table only its full cache build fills (~0.15 s),
    which a disk-cached registry (and ours, below) skips: ``Q_(1, "GB").compatible_units()``
    was empty. The table is built on the first such call instead of at start-up.
    """
    import pint

    class Registry(pint.UnitRegistry):
        def get_compatible_units(self, input_units, group_or_system=None):
            if not self._cache.dimensional_equivalents:
                self._build_cache()  # refills every table from the final definitions
            return super().get_compatible_units(input_units, group_or_system)

    return Registry


def _forget_dimensions_of_the_defaults(registry: pint.UnitRegistry) -> None:
    """Drop the dimension cache pint filled from its defaults, where ``bit = []``.

    pint fills that cache once, in ``__init__``, and ``load_definitions`` never refreshes it,
    so after our ``bit = [information]`` a cold build (no disk cache yet, or none at all) kept
    ``byte`` dimensionless: ``Q_(1, "GB").to("byte")`` raised. A warm disk cache hid the bug,
    because pint 0.25 never puts the cache it loads back in place. An empty cache is refilled
    lazily from the final definitions, exactly as a warm build's is (``get_compatible_units``
    builds its own table on first use, see ``_registry_class``). pint's context facet keeps the
    no-context cache under ``_caches[()]`` and switches back to it on leaving a context, so the
    fresh cache goes there too (else ``with ureg.context("sp")`` brought the stale one back).
    """
    fresh = type(registry._cache)()
    registry._cache = fresh
    registry._caches.clear()  # variants per context combination would derive from the stale one
    registry._caches[()] = fresh


class _LazyRegistry:
    """The registry, built on first attribute access so ``import mlsysim`` stays cheap."""

    def __getattr__(self, name: str) -> Any:
        return getattr(get_registry(), name)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return get_registry()(*args, **kwargs)

    def __dir__(self) -> list[str]:
        return dir(get_registry())

    def __repr__(self) -> str:
        return "<mlsysim unit registry>"


ureg = _LazyRegistry()


def Q_(value: Any, units: Any = None) -> pint.Quantity:
    """Make a Quantity in mlsysim's registry: ``Q_(3.35, "TB/s")``."""
    return get_registry().Quantity(value, units)


def is_quantity(value: Any) -> bool:
    """True for a pint Quantity of any registry."""
    return hasattr(value, "magnitude") and hasattr(value, "units") and hasattr(value, "m_as")
