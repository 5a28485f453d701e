"""The Ledger: one scorecard of a lab, in four sections (performance, sustainability,
economics, reliability) plus the persona's primary constraint.

Each field is stored once, as a pint Quantity under its plain name (``carbon``, ``energy``).
A name with a unit suffix (``carbon_kg``, ``energy_kwh``, ``tco_usd``, ``mtbf_hours``) is a
plain float derived on access from that Quantity, so f-strings work and there is one source of
truth. ``failures_per_year`` reads the ``failure_rate`` field in 1/year.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from mlsysim.core.limits import LimitMargin
from mlsysim.core.units import is_quantity
from mlsysim.errors import InvariantError

SECTIONS = ("performance", "sustainability", "economics", "reliability")

# suffix -> unit; a carbon field read as ``_kg`` converts to kgCO2e, a mass to kg.
SUFFIX_UNITS = {
    "per_year": "1/year",
    "hours": "hour",
    "days": "day",
    "kwh": "kWh",
    "mwh": "MWh",
    "usd": "USD",
    "kg": "kg",
    "ms": "ms",
    "s": "s",
    "j": "J",
    "w": "W",
    "l": "L",
}
ALIASES = {"failures_per_year": ("failure_rate", "1/year")}

# The unit each known field is written in (``validate`` checks the dimension; a field in another
# unit of the same dimension is fine). Every amount the built-in labs write is here.
FIELD_UNITS = {
    # performance
    "active_power": "W",
    "peak_power": "W",
    "latency": "ms",
    "throughput": "1/s",
    "energy_per_inference": "J",
    "memory_required": "byte",
    "inferences_per_day": "1/day",
    "ttft": "ms",
    "tpot": "ms",
    "e2e_latency": "ms",
    "tokens_per_second": "1/s",
    "time_to_train": "day",
    "total_flops": "flop",
    "device_time": "hour",
    "mfu": "",
    # sustainability
    "duty_cycled_power": "W",
    "average_power": "W",
    "duty_cycle": "",
    "radio_energy": "kWh",
    "it_energy": "kWh",
    "pue": "",
    "energy": "kWh",
    "carbon_intensity": "gCO2e/kWh",
    "operational_carbon": "kgCO2e",
    "embodied_carbon": "kgCO2e",
    "carbon": "kgCO2e",
    "water": "L",
    # economics
    "unit_cost": "USD",
    "electricity_price": "USD/kWh",
    "capex": "USD",
    "opex": "USD",
    "tco": "USD",
    # reliability
    "mttf": "hour",
    "fleet_size": "",
    "failures": "",
    "failure_rate": "1/year",
    "mtbf": "hour",
    "mean_time_between_fleet_failures": "hour",
    "checkpoint_time": "s",
    "restart_time": "s",
    "checkpoint_interval": "min",
    "goodput": "",
    "time_to_train_with_failures": "day",
}
FRACTIONS = ("mfu", "duty_cycle", "goodput")
# Physical sanity rules applied by ``validate``: amounts that must be >= 0 (energy, power,
# carbon, money, time, counts), and the FRACTIONS inside [0, 1]; PUE >= 1.
NON_NEGATIVE = frozenset(FIELD_UNITS) - {*FRACTIONS, "pue"}
# Totals that must equal their parts (checked when every part is a Quantity; None counts as 0):
# section, total, parts, and how they combine.
TOTALS = (
    ("sustainability", "energy", ("it_energy", "pue"), "product"),
    ("sustainability", "carbon", ("operational_carbon", "embodied_carbon"), "sum"),
    ("economics", "tco", ("capex", "opex"), "sum"),
)


def suffix_unit(name: str) -> tuple[str, str] | None:
    """``carbon_kg`` -> ("carbon", "kg"); None when the name has no unit suffix."""
    if name in ALIASES:
        return ALIASES[name]
    for suffix in sorted(SUFFIX_UNITS, key=len, reverse=True):
        if name.endswith("_" + suffix) and len(name) > len(suffix) + 1:
            return name[: -len(suffix) - 1], SUFFIX_UNITS[suffix]
    return None


def _in_unit(quantity: Any, unit: str, where: str = "field") -> float:
    if not is_quantity(quantity):
        raise TypeError(
            f"ledger field {where} is {quantity!r} ({type(quantity).__name__}), not a Quantity: "
            f"it has no value in {unit}"
        )
    if unit == "kg" and "[carbon]" in quantity.dimensionality:
        unit = "kgCO2e"
    return float(quantity.m_as(unit))


class Section:
    """One ledger section: ``section.carbon`` (Quantity), ``section.carbon_kg`` (float in kg).

    Set fields with ``section["carbon"] = Q_(12, "kgCO2e")``; a value is a Quantity, a str, a
    bool or None (not available). Suffix names are derived and cannot be set.
    """

    def __init__(self, name: str):
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "_values", {})

    def __setitem__(self, key: str, value: Any) -> None:
        if suffix_unit(key) is not None and key not in self._values:
            base, unit = suffix_unit(key)
            raise ValueError(
                f"ledger field {self.name}.{key} looks like a unit-suffix view; store the "
                f"Quantity under {base!r} and read {key!r} as a float in {unit}"
            )
        if not (value is None or isinstance(value, (str, bool)) or is_quantity(value)):
            raise TypeError(
                f"ledger field {self.name}.{key} must be a pint Quantity, str, bool or None, "
                f"got {type(value).__name__} {value!r} (give numbers a unit, '' if none)"
            )
        self._values[key] = value

    def __getitem__(self, key: str) -> Any:
        return getattr(self, key)

    def __getattr__(self, key: str) -> Any:
        values = self.__dict__.get("_values")
        if values is None or key.startswith("__"):
            raise AttributeError(key)
        if key in values:
            return values[key]
        parsed = suffix_unit(key)
        if parsed is not None and parsed[0] in values:
            base = values[parsed[0]]
            return None if base is None else _in_unit(base, parsed[1], f"{self.name}.{parsed[0]}")
        raise AttributeError(
            f"ledger section {self.name!r} has no field {key!r}; fields: {', '.join(values)}"
        )

    def __setattr__(self, key: str, value: Any) -> None:
        raise AttributeError(f"set ledger fields with section[{key!r}] = value")

    def __contains__(self, key: object) -> bool:
        return key in self._values

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def items(self) -> Iterator[tuple[str, Any]]:
        return iter(self._values.items())

    def __dir__(self) -> list[str]:
        return [*self._values, "items"]

    def __repr__(self) -> str:
        return f"<Section {self.name}: {', '.join(self._values)}>"


@dataclass(frozen=True)
class ConstraintResult(LimitMargin):
    """The persona's primary constraint: ``achieved`` against ``limit`` (a max or a min).

    ``margin`` = limit - achieved for a max, achieved - limit for a min (negative = not met;
    ``LimitMargin``).
    """

    name: str
    metric: str
    achieved: Any
    limit: Any
    kind: str
    source: str

    @property
    def met(self) -> bool:
        return bool(self.margin.magnitude >= 0)

    def describe(self) -> str:
        relation = "<=" if self.kind == "max" else ">="
        verdict = "met" if self.met else "NOT met"
        achieved, limit = field_text("", self.achieved), field_text("", self.limit)
        return (
            f"{self.name}: {achieved}, limit {relation} {limit}: "
            f"{verdict}, {self.margin_fraction:+.0%} margin ({self.source})"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "metric": self.metric,
            "achieved": self.achieved,
            "limit": self.limit,
            "met": self.met,
            "margin": self.margin,
        }


@dataclass(frozen=True)
class FieldChange:
    """One field of ``Ledger.diff``: before, after, absolute change and relative change."""

    before: Any
    after: Any
    absolute: Any
    relative: float | None


@dataclass
class Ledger:
    """The lab scorecard: four sections, the persona constraint, notes (every labelled
    assumption used) and ``sources`` (key -> Source of each catalog or assumed value)."""

    title: str = "Ledger"
    performance: Section = field(default_factory=lambda: Section("performance"))
    sustainability: Section = field(default_factory=lambda: Section("sustainability"))
    economics: Section = field(default_factory=lambda: Section("economics"))
    reliability: Section = field(default_factory=lambda: Section("reliability"))
    constraint: ConstraintResult | None = None
    notes: list[str] = field(default_factory=list)
    sources: dict[str, Any] = field(default_factory=dict)
    choices: dict[str, Any] = field(default_factory=dict)

    def sections(self) -> dict[str, Section]:
        return {name: getattr(self, name) for name in SECTIONS}

    # ------------------------------------------------------------------ checks
    def validate(self) -> Ledger:
        """Raise ``InvariantError`` listing every physically impossible field; else return self.

        A known field must be in a unit of its ``FIELD_UNITS`` dimension (energy in kWh, J...);
        energy, carbon, cost, time and failure counts must be finite and >= 0; MFU, duty cycle
        and goodput in [0, 1]; PUE >= 1; TCO = capex + opex, energy = IT energy x PUE,
        carbon = operational + embodied (``TOTALS``).
        """
        problems = []
        for section in self.sections().values():
            for key, value in section.items():
                if not is_quantity(value):
                    continue
                where = f"{section.name}.{key}"
                magnitude = float(value.magnitude)
                wrong_unit = _unit_problem(key, value)
                if wrong_unit:
                    problems.append(f"{where} = {value:~P} {wrong_unit}")
                elif not math.isfinite(magnitude):
                    problems.append(f"{where} is not finite ({value})")
                elif key in NON_NEGATIVE and magnitude < 0:
                    problems.append(f"{where} = {field_text(key, value)} is negative")
                elif key in FRACTIONS and not 0.0 <= float(value.m_as("")) <= 1.0:
                    problems.append(f"{where} = {float(value.m_as('')):.4g} is outside [0, 1]")
                elif key == "pue" and float(value.m_as("")) < 1.0:
                    problems.append(f"{where} = {float(value.m_as('')):.4g} is below 1")
        problems += self._totals_problems()
        if problems:
            raise InvariantError(f"{self.title}: " + "; ".join(problems))
        return self

    def _totals_problems(self) -> list[str]:
        """``TOTALS`` that do not equal their parts (relative tolerance 1e-9)."""
        from mlsysim.core.units import Q_

        problems = []
        for name, total_key, parts, how in TOTALS:
            fields = self.sections()[name]._values
            total, values = fields.get(total_key), [fields.get(part) for part in parts]
            if not (is_quantity(total) and all(part in fields for part in parts)):
                continue
            if any(
                _unit_problem(k, fields[k]) for k in (total_key, *parts) if is_quantity(fields[k])
            ):
                continue  # already reported as a field in the wrong unit
            if how == "product" and all(is_quantity(v) for v in values):
                expected, relation = values[0] * values[1], " x ".join(parts)
            elif how == "sum" and all(v is None or is_quantity(v) for v in values):
                present = [v for v in values if v is not None]
                expected, relation = sum(present, Q_(0, total.units)), " + ".join(parts)
            else:
                continue
            got, want = float(total.magnitude), float(expected.m_as(total.units))
            if not math.isclose(got, want, rel_tol=1e-9, abs_tol=1e-12):
                unit = _unit_text(total)
                problems.append(
                    f"{name}.{total_key} = {got:.6g} {unit} != {relation} = {want:.6g} {unit}"
                )
        return problems

    # ------------------------------------------------------------------ exports
    def to_dict(self) -> dict[str, dict[str, Any]]:
        """section -> field -> value (Quantities, str, bool, None), plus "constraint"."""
        data = {name: dict(section.items()) for name, section in self.sections().items()}
        if self.constraint is not None:
            data["constraint"] = self.constraint.to_dict()
        return data

    def rows(self, style: str = "text") -> list[tuple[str, str, str]]:
        """(section, field, text) for every field, in order; each value by ``field_text``."""
        rows = []
        for name, fields in self.to_dict().items():
            rows += [(name, key, field_text(key, value, style)) for key, value in fields.items()]
        return rows

    def to_markdown(self) -> str:
        """A Markdown table (section | field | value), then the constraint and notes."""
        lines = [f"**{self.title}**", "", "| Section | Field | Value |", "|---|---|---:|"]
        lines += [f"| {s} | {f} | {v} |" for s, f, v in self.rows("markdown")]
        if self.constraint is not None:
            lines += ["", f"Primary constraint: {self.constraint.describe()}"]
        lines += [f"- {note}" for note in self.notes]
        return "\n".join(lines)

    def _repr_markdown_(self) -> str:
        return self.to_markdown()

    def to_latex(self) -> str:
        """A ``tabular`` (section & field & value): numbers in ``$...$`` math, text escaped."""
        lines = [r"\begin{tabular}{llr}", r"\hline", r"Section & Field & Value \\", r"\hline"]
        lines += [f"{_tex(s)} & {_tex(f)} & {v} \\\\" for s, f, v in self.rows("latex")]
        lines += [r"\hline", r"\end{tabular}"]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.to_markdown()

    # ------------------------------------------------------------------ what-if
    def diff(self, other: Ledger) -> dict[str, dict[str, FieldChange]]:
        """Per numeric field present in both: before (self), after (other), other - self and
        (other - self) / |self| (None when self is 0)."""
        changes: dict[str, dict[str, FieldChange]] = {}
        for name, section in self.sections().items():
            theirs = other.sections()[name]
            for key, before in section.items():
                after = theirs._values.get(key)
                if not (is_quantity(before) and is_quantity(after)):
                    continue
                absolute = after.to(before.units) - before
                base = abs(float(before.magnitude))
                relative = None if base == 0 else float(absolute.magnitude) / base
                changes.setdefault(name, {})[key] = FieldChange(before, after, absolute, relative)
        return changes


def field_text(key: str, value: Any, style: str = "text") -> str:
    """One field as every export prints it (``mlsysim.viz.formatting.fmt_field``): ``7.55 mW``,
    ``2.63 min``, ``200,000/yr``, MFU ``1.80%``. ``latex`` numbers come wrapped in ``$...$``
    and text escaped, so the cell is ready for a ``tabular``. A NaN prints as ``nan`` (as the
    scorecard shows it): ``validate()``, not printing, is where a NaN is an error."""
    from mlsysim.viz.formatting import Formatted, fmt_field

    text = fmt_field(value, style, fraction=key in FRACTIONS, allow_nan=True)
    if style != "latex":
        return str(text)
    return f"${text}$" if isinstance(text, Formatted) else _tex(str(text))


def _unit_problem(key: str, value: Any) -> str | None:
    """Why ``value`` is not in the unit ``FIELD_UNITS`` gives ``key`` (None if it is fine)."""
    if key not in FIELD_UNITS:
        return None
    from mlsysim.core.units import Q_

    expected = FIELD_UNITS[key]
    if value.dimensionality == Q_(1, expected).dimensionality:
        return None
    if not expected:
        return f"is in {_unit_text(value)}: expected a plain number (dimensionless)"
    return (
        f"is in {_unit_text(value) or 'no unit'}, which does not convert to the expected {expected}"
    )


def _unit_text(value: Any) -> str:
    """Short unit text of a Quantity (``kgCO2e``, ``USD``); empty for a bare number."""
    return f"{value.units:~P}".replace("dollar", "USD")


_TEX = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_"}
_TEX |= {"{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}"}


def _tex(text: str) -> str:
    return "".join(_TEX.get(char, char) for char in text)


def changes_table(changes: Mapping[str, Mapping[str, FieldChange]]) -> str:
    """A Markdown table of the fields ``Ledger.diff`` found changed (field | before | after |
    change); unchanged fields are left out. Values print as in ``Ledger.to_markdown``."""
    lines = ["| Field | Before | After | Change |", "|---|---:|---:|---:|"]
    for section, fields in changes.items():
        for key, c in fields.items():
            if float(c.absolute.magnitude) == 0:
                continue
            rel = "n/a" if c.relative is None else f"{c.relative:+.1%}"
            before, after = (field_text(key, v, "markdown") for v in (c.before, c.after))
            lines.append(f"| {section}.{key} | {before} | {after} | {rel} |")
    return "\n".join(lines)
