"""Unit strings compared with pint, with no unit registry of the book's own library.

A golden stores its unit as text (``"flop / byte"``); a run may print another spelling of the
same unit (``"teraflop / second"`` vs ``"flop / second"``). :func:`convert` turns a magnitude in
one unit string into another, defining names pint does not know (``flop``, ``token``) as base
units of their own dimension, with SI/IEC prefixes stripped so that they still scale.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any


class UnitMismatch(Exception):
    """The run's unit does not convert to the snapshot's (a ``unit_error`` finding)."""


def convert(magnitude: Any, unit: str | None, target: str | None, bad_target: Any) -> Any:
    """``magnitude`` in ``unit`` expressed in ``target``. Equal unit strings need no pint;
    otherwise pint converts, defining unknown unit names (``flop``, ``token``) as their own
    dimension. ``bad_target(reason)`` is the exception raised when ``target`` cannot be parsed;
    a ``unit`` pint cannot parse, or one that does not convert, is a :class:`UnitMismatch`."""
    if unit == target or magnitude is None:
        return magnitude
    import pint

    registry = _registry()
    stored = _parse_unit(registry, target, bad_target)
    current = _parse_unit(registry, unit, UnitMismatch)
    try:
        factor = registry.Quantity(1.0, current).to(stored).magnitude
    except pint.DimensionalityError as exc:
        raise UnitMismatch(
            f"unit {unit or 'dimensionless'!r} of this run does not convert to the snapshot's "
            f"{target or 'dimensionless'!r}"
        ) from exc
    if isinstance(magnitude, list):
        return [m * factor for m in magnitude]
    return magnitude * factor


def _parse_unit(registry: Any, unit: str | None, error: Any) -> Any:
    import pint

    text = unit or "dimensionless"
    for _ in range(8):  # each pass defines one more unknown unit name
        try:
            return registry.parse_units(text)
        except pint.UndefinedUnitError as exc:
            names = exc.unit_names if isinstance(exc.unit_names, tuple) else (exc.unit_names,)
            for name in names:
                base = _unprefixed(name)
                if not base.isidentifier():
                    raise error(f"unit {text!r} cannot be parsed: unknown name {name!r}") from exc
                registry.define(f"{base} = [{base}]")
        except Exception as exc:  # pint raises tokenizer and syntax errors of several types
            raise error(f"unit {text!r} cannot be parsed ({exc})") from exc
    raise error(f"unit {text!r} cannot be parsed")


_PREFIXES = (
    "yocto", "zepto", "atto", "femto", "pico", "nano", "micro", "milli", "centi", "deci", "deca",
    "hecto", "kilo", "mega", "giga", "tera", "peta", "exa", "zetta", "yotta",
    "kibi", "mebi", "gibi", "tebi", "pebi", "exbi",
)  # fmt: skip


def _unprefixed(name: str) -> str:
    """``teraflop`` -> ``flop``: an unknown name is defined without its SI/IEC prefix, so pint
    can scale it (the prefixes are spelled out as in pint's default ``str`` of a unit)."""
    for prefix in _PREFIXES:
        if name.startswith(prefix) and len(name) - len(prefix) >= 2:
            return name[len(prefix) :]
    return name


@lru_cache(maxsize=1)
def _registry() -> Any:
    """A private pint registry for comparing unit strings (only when two strings differ)."""
    import pint

    return pint.UnitRegistry()
