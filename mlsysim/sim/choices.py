"""Declared lab choices: name, type, unit, default, allowed values or range, help.

A simulation lists its ``Choice`` objects in one tuple; ``resolve_choices`` validates a
student's dict against them (unknown key, wrong type, unknown name, out of range ->
``ChoiceError`` / ``UnknownNameError`` naming the choice and what is valid) and fills defaults.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from mlsysim.core.units import is_quantity
from mlsysim.errors import ChoiceError, UnknownNameError

_TYPE_NAMES = {float: "a number", int: "an integer", str: "a string", bool: "true/false"}
_ACCEPTS = {float: numbers.Real, int: numbers.Integral}


class UnknownChoiceError(UnknownNameError, ChoiceError):
    """An unknown choice key or value: a ``KeyError`` listing close names (``UnknownNameError``)
    and a ``ValueError`` (``ChoiceError``), so either ``except`` catches it."""


@dataclass(frozen=True)
class Choice:
    """One knob of a lab. ``kind`` is float, int, str or bool; ``unit`` documents the number.

    ``allowed`` is a tuple of names or a zero-argument callable returning them (catalog names,
    looked up lazily); ``low``/``high`` bound numbers (``low_open``: the bound itself is
    invalid). ``default=None`` means "derived from the scenario" (explained in ``help``).
    """

    name: str
    kind: type
    default: Any = None
    unit: str | None = None
    allowed: tuple[str, ...] | Callable[[], Iterable[str]] | None = None
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    help: str = ""

    def valid_range(self) -> str:
        """``(0, inf) day``, ``[1, 3]``, or the allowed names."""
        if self.allowed is not None:
            return "one of " + ", ".join(self.names())
        if self.kind is bool:
            return "True or False"
        low = "-inf" if self.low is None else f"{self.low:g}"
        high = "inf" if self.high is None else f"{self.high:g}"
        bracket = "(" if self.low_open or self.low is None else "["
        close = ")" if self.high is None else "]"
        unit = f" {self.unit}" if self.unit else ""
        return f"{bracket}{low}, {high}{close}{unit}"

    def names(self) -> list[str]:
        allowed = self.allowed() if callable(self.allowed) else self.allowed
        return list(allowed or ())

    def validate(self, value: Any) -> Any:
        """Return the value (ints widened to float for float choices) or raise naming the choice.

        A numeric choice with a pint ``unit`` also takes a Quantity, converted to that unit
        (``Q_(7, "Wh")`` -> 7.0 for ``unit="Wh"``, ``Q_(7000, "mWh")`` -> 7.0).
        """
        if is_quantity(value) and self.kind in (int, float):
            value = self._in_unit(value)
        accepts = _ACCEPTS.get(self.kind, self.kind)
        ok_type = isinstance(value, accepts) and not (
            self.kind is not bool and isinstance(value, bool)
        )
        if not ok_type:
            raise ChoiceError(
                f"choice {self.name!r} must be {_TYPE_NAMES.get(self.kind, self.kind.__name__)}"
                f" ({self.valid_range()}), got {type(value).__name__} {value!r}"
            )
        if self.allowed is not None:
            names = self.names()
            if value not in names:
                raise UnknownChoiceError(f"choice {self.name!r} value", value, names)
        if self.kind in (int, float):
            value = self.kind(value)
            bad = not math.isfinite(value)
            bad = bad or (
                self.low is not None and (value <= self.low if self.low_open else value < self.low)
            )
            bad = bad or (self.high is not None and value > self.high)
            if bad:
                raise ChoiceError(
                    f"choice {self.name!r} = {value!r} is out of range; valid: {self.valid_range()}"
                )
        return value

    def _in_unit(self, value: Any) -> Any:
        """The magnitude of a Quantity in this choice's unit; ChoiceError naming both units."""
        from pint import DimensionalityError

        from mlsysim.core.units import ureg

        given = format(value.units, "~P") or "dimensionless"
        try:
            unit = ureg.Unit(self.unit or "")
        except Exception:  # a descriptive unit such as "kgCO2e per device" is not pint's
            raise ChoiceError(
                f"choice {self.name!r} takes a plain number in {self.unit} "
                f"({self.valid_range()}), got {value:~P}"
            ) from None
        try:
            magnitude = value.m_as(unit)
        except DimensionalityError:
            raise ChoiceError(
                f"choice {self.name!r} is in {self.unit or 'no unit (dimensionless)'}; "
                f"{value:~P} is in {given}, which does not convert to it"
            ) from None
        if self.kind is int and float(magnitude).is_integer():
            return int(magnitude)
        return magnitude.item() if hasattr(magnitude, "item") else magnitude

    def describe(self) -> str:
        """One line for docs and errors: name, type, range, default, help."""
        default = "derived (see help)" if self.default is None else repr(self.default)
        return f"{self.name}: {self.valid_range()}, default {default}. {self.help}".strip()


def merge(*groups: Iterable[Choice]) -> tuple[Choice, ...]:
    """Concatenate choice tuples, keeping the first declaration of each name."""
    seen: dict[str, Choice] = {}
    for group in groups:
        for choice in group:
            seen.setdefault(choice.name, choice)
    return tuple(seen.values())


def resolve_choices(
    declared: Iterable[Choice], given: Mapping[str, Any] | None, owner: str = "simulation"
) -> dict:
    """Validate ``given`` against ``declared`` and return every choice with defaults filled.

    ``owner`` (the simulation's class name) appears in the unknown-key error.
    """
    declared = tuple(declared)
    by_name = {choice.name: choice for choice in declared}
    given = {} if given is None else given
    if not isinstance(given, Mapping):
        raise ChoiceError(
            f"{owner} choices must be a dict of name -> value, got {type(given).__name__}"
        )
    for key in given:
        if key not in by_name:
            raise UnknownChoiceError(f"{owner} choice", key, by_name)
    resolved = {}
    for choice in declared:
        value = given.get(choice.name, choice.default)
        resolved[choice.name] = None if value is None else choice.validate(value)
    return resolved


def _grid_names() -> list[str]:
    from mlsysim.core.catalogs import Grids

    return list(Grids.names())


# ---------------------------------------------------------------- the shared knobs
REGION = Choice(
    "region",
    str,
    default="US",
    allowed=_grid_names,
    help="Grid region (mlsysim.Grids): sets carbon intensity and electricity price.",
)
DURATION = Choice(
    "duration_days",
    float,
    default=None,
    unit="day",
    low=0.0,
    low_open=True,
    help="Period the ledger covers; default 365 days, or the run's time to train for training.",
)
FLEET_SIZE = Choice(
    "fleet_size",
    int,
    default=None,
    unit="device",
    low=1,
    help="Number of devices (fleet) or accelerators (cluster); default the scenario's.",
)
PUE = Choice(
    "pue",
    float,
    default=None,
    low=1.0,
    high=3.0,
    help="Datacenter PUE; default Datacenters.Hyperscale. Ignored for device fleets.",
)
DUTY_CYCLE = Choice(
    "duty_cycle",
    float,
    default=None,
    low=0.0,
    high=1.0,
    help="Fraction of time computing; default the scenario's (inferences/day x latency).",
)
INCLUDE_RADIO = Choice(
    "include_radio",
    bool,
    default=True,
    help="Add the radio energy of the scenario's radio_* fields (if the scenario has a radio).",
)
CHECKPOINT_TIME = Choice(
    "checkpoint_time_s",
    float,
    default=None,
    unit="s",
    low=0.0,
    low_open=True,
    help="Time to write one checkpoint (training); default the labelled assumption.",
)
RESTART_TIME = Choice(
    "restart_time_s",
    float,
    default=None,
    unit="s",
    low=0.0,
    help="Time to restart after a failure (training); default the labelled assumption.",
)
EMBODIED = Choice(
    "embodied_kg",
    float,
    default=None,
    unit="kgCO2e per device",
    low=0.0,
    help="Embodied carbon per device; default the catalog's (omitted, with a note, if unsourced).",
)
LIFETIME = Choice(
    "lifetime_years",
    float,
    default=None,
    unit="year",
    low=0.0,
    low_open=True,
    help="Service life that embodied carbon is amortised over; default the catalog's.",
)
