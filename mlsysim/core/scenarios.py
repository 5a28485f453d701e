"""Scenarios: a workload on target hardware under constraints, and the book's ``Applications``.

A ``Scenario`` names a catalog model and hardware part, a deployment ("datacenter", "edge",
"mobile", "tiny"), a workload ("inference", "serving", "training") and its constraints (latency
SLO, power / energy budget, memory, throughput target, fleet size, duty cycle). ``evaluate()``
runs the engine and returns each constraint's margin and a reason. Every parameter carries a
source or is labelled an illustrative assumption in ``scenario.sources``.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from mlsysim.core.limits import LimitMargin
from mlsysim.errors import UnknownNameError

DEPLOYMENTS = ("datacenter", "edge", "mobile", "tiny")
WORKLOADS = ("inference", "serving", "training")
SECONDS_PER_DAY = 86400.0


@dataclass(frozen=True)
class ConstraintCheck(LimitMargin):
    """One constraint: ``achieved`` against ``limit`` (a maximum or a minimum), its margin and why.

    ``margin`` is limit - achieved for a maximum and achieved - limit for a minimum, so a
    negative margin is a violation; ``margin_fraction`` is margin / limit (``LimitMargin``).
    """

    name: str
    achieved: Any
    limit: Any
    kind: str  # "max" or "min"
    ok: bool
    reason: str


@dataclass(frozen=True)
class Evaluation:
    """Feasibility of a scenario: every constraint check and the engine profile(s) behind them."""

    scenario: str
    feasible: bool
    constraints: tuple[ConstraintCheck, ...]
    profile: Any
    serving_profile: Any = None

    @property
    def violations(self) -> tuple[ConstraintCheck, ...]:
        return tuple(check for check in self.constraints if not check.ok)

    def summary(self) -> str:
        """``Doorbell: feasible`` followed by one line per constraint."""
        verdict = "feasible" if self.feasible else "NOT feasible"
        lines = [f"{self.scenario}: {verdict}"]
        lines += [f"  [{'ok' if c.ok else 'FAIL'}] {c.reason}" for c in self.constraints]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()


@dataclass(frozen=True, eq=False)
class Scenario:
    """A workload, its target hardware and constraints. Quantities carry units; None = no limit.

    Inference: ``latency_slo`` bounds one batch, ``power_budget`` the device's peak draw
    (``peak_power``: inference or radio transmit, the larger),
    ``energy_budget`` the energy per inference, ``throughput_target`` samples/s per device.
    Serving: ``latency_slo`` bounds TTFT, ``tpot_slo`` each output token, ``throughput_target``
    tokens/s per replica. Training: ``training_deadline`` bounds wall-clock time and
    ``power_budget`` the facility power of the whole cluster (``fleet_size`` devices).
    A device that transmits has a radio (``radio_events_per_day`` x ``radio_airtime`` at
    ``radio_power``, all three or none), counted in its battery life and in the labs' energy.
    """

    name: str
    description: str
    model_name: str
    hardware_name: str
    deployment: str
    workload: str = "inference"
    precision: str = "fp16"
    batch_size: int = 1
    latency_slo: Any = None
    tpot_slo: Any = None
    throughput_target: Any = None
    power_budget: Any = None
    energy_budget: Any = None
    memory_budget: Any = None
    fleet_size: int = 1
    inferences_per_day: float | None = None
    duty_cycle_override: float | None = None
    power_source: str = "mains"
    battery_capacity: Any = None
    battery_life_target: Any = None
    radio_events_per_day: float | None = None
    radio_airtime: Any = None
    radio_power: Any = None
    prompt_tokens: int = 512
    output_tokens: int = 128
    tensor_parallel: int = 1
    training_tokens: Any = None
    training_deadline: Any = None
    parallelism: Any = None
    serving: Scenario | None = None
    sources: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.deployment not in DEPLOYMENTS:
            raise ValueError(
                f"argument 'deployment' must be one of {', '.join(DEPLOYMENTS)}, "
                f"got {self.deployment!r}"
            )
        if self.workload not in WORKLOADS:
            raise ValueError(
                f"argument 'workload' must be one of {', '.join(WORKLOADS)}, got {self.workload!r}"
            )
        if self.power_source not in ("mains", "battery"):
            raise ValueError(
                f"argument 'power_source' must be 'mains' or 'battery', got {self.power_source!r}"
            )
        if self.workload == "training" and self.training_tokens is None:
            raise ValueError("a training scenario needs argument 'training_tokens'")
        radio = (self.radio_events_per_day, self.radio_airtime, self.radio_power)
        if any(part is None for part in radio) and any(part is not None for part in radio):
            raise ValueError(
                "a radio needs all of 'radio_events_per_day', 'radio_airtime' and 'radio_power'"
            )
        if self.radio_power is not None:
            _require_radio(self.radio_events_per_day, self.radio_airtime, self.radio_power)

    # -- what the simulations read ------------------------------------------------------------
    @property
    def model(self) -> Any:
        """The catalog ``ModelSpec``."""
        from mlsysim.core.catalogs import Models

        return Models[self.model_name]

    @property
    def hardware(self) -> Any:
        """The catalog ``HardwareSpec``."""
        from mlsysim.core.catalogs import Hardware

        return Hardware[self.hardware_name]

    @property
    def duty_cycle(self) -> float:
        """Fraction of time the device computes: the override, else d = inferences/day x latency
        / batch_size / 86,400 s. Datacenter serving and training run continuously (1.0).

        A demanded d > 1 is a ``ChoiceError``: one device cannot be busy more than all day, and
        capping d at 1 would silently drop the energy of the inferences it cannot run.
        """
        from mlsysim.errors import ChoiceError

        if self.duty_cycle_override is not None:
            if not 0.0 <= self.duty_cycle_override <= 1.0:
                raise ChoiceError(
                    f"scenario {self.name!r}: argument 'duty_cycle_override' = "
                    f"{self.duty_cycle_override!r} is out of range; valid: [0, 1]"
                )
            return self.duty_cycle_override
        demanded = self.demanded_duty_cycle
        if demanded is None:
            return 1.0
        if demanded > 1.0:
            latency = self.profile().latency_s
            busy = demanded * SECONDS_PER_DAY
            raise ChoiceError(_overload_message(self, latency, busy, demanded))
        return demanded

    @property
    def demanded_duty_cycle(self) -> float | None:
        """The busy fraction the daily load asks of one device, inferences/day x latency /
        batch_size / 86,400 s, not capped (above 1 it cannot be met); None when the scenario
        sets no daily load (or is not inference)."""
        if self.workload != "inference" or self.inferences_per_day is None:
            return None
        busy = self.inferences_per_day * self.profile().latency_s / self.batch_size
        return busy / SECONDS_PER_DAY

    @property
    def radio_average_power(self) -> Any:
        """The radio's share of the device's average power [W], or None without a radio:
        P_radio = events/day x airtime x radio power / 86,400 s."""
        from mlsysim.core.units import Q_

        if self.radio_power is None:
            return None
        on_air = self.radio_events_per_day * self.radio_airtime / Q_(SECONDS_PER_DAY, "s")
        return (on_air * self.radio_power).to("W")

    @property
    def peak_power(self) -> Any:
        """The device's highest draw [W]: see :func:`peak_device_power`."""
        return peak_device_power(self.hardware, self.radio_power)

    def profile(self) -> Any:
        """The engine's profile of this workload (solve, serve or train)."""
        return _profile(self)

    # -- feasibility --------------------------------------------------------------------------
    def evaluate(self) -> Evaluation:
        """Check every constraint against the engine; feasible when all hold."""
        profile = self.profile()
        checks = list(_CHECKS[self.workload](self, profile))
        serving_profile = None
        if self.serving is not None:
            sub = self.serving.evaluate()
            serving_profile = sub.profile
            checks += [
                ConstraintCheck(
                    f"serving {c.name}", c.achieved, c.limit, c.kind, c.ok, f"serving: {c.reason}"
                )
                for c in sub.constraints
            ]
        return Evaluation(
            scenario=self.name,
            feasible=all(check.ok for check in checks),
            constraints=tuple(checks),
            profile=profile,
            serving_profile=serving_profile,
        )


@functools.lru_cache(maxsize=64)
def _profile(scenario: Scenario) -> Any:
    from mlsysim.core.engine import Engine

    if scenario.workload == "inference":
        return Engine.solve(
            scenario.model_name, scenario.hardware_name, scenario.batch_size, scenario.precision
        )
    if scenario.workload == "serving":
        return Engine.serve(
            scenario.model_name,
            scenario.hardware_name,
            batch_size=scenario.batch_size,
            prompt_tokens=scenario.prompt_tokens,
            output_tokens=scenario.output_tokens,
            precision=scenario.precision,
            tensor_parallel=scenario.tensor_parallel,
        )
    return Engine.train(
        scenario.model_name,
        scenario.hardware_name,
        num_devices=scenario.fleet_size,
        tokens=scenario.training_tokens,
        precision=scenario.precision,
        parallelism=scenario.parallelism,
    )


# ---------------------------------------------------------------- constraint checks
def _check(name: str, achieved: Any, limit: Any, kind: str, label: str) -> ConstraintCheck:
    from mlsysim.core.engine.profiles import human, human_number

    if _is_bytes(limit):
        limit = limit.to("byte")
    achieved_in = achieved.to(limit.units)
    ok = bool(achieved_in <= limit) if kind == "max" else bool(achieved_in >= limit)
    relation = ("<=" if ok else ">") if kind == "max" else (">=" if ok else "<")
    margin = float(((limit - achieved_in) if kind == "max" else (achieved_in - limit)) / limit)
    unit = f"{limit.units:~P}"
    shown = f"{human_number(achieved_in.magnitude)} {unit}"
    bound = f"{human_number(limit.magnitude)} {unit}"
    if _is_bytes(limit):
        shown = human(achieved_in.magnitude, "byte")
        bound = human(limit.magnitude, "byte")
    headroom = f"{margin:+.0%} margin"
    return ConstraintCheck(
        name, achieved_in, limit, kind, ok, f"{label} {shown} {relation} {bound} ({headroom})"
    )


def _is_bytes(quantity: Any) -> bool:
    from mlsysim.core.units import Q_

    return quantity.dimensionality == Q_(1, "byte").dimensionality


def _memory_check(scenario: Scenario, required: Any, capacity: Any, label: str) -> ConstraintCheck:
    limit = scenario.memory_budget if scenario.memory_budget is not None else capacity
    return _check("memory", required, limit, "max", label)


def _inference_checks(scenario: Scenario, p: Any) -> Iterator[ConstraintCheck]:
    from mlsysim.core.units import Q_

    hw = scenario.hardware
    demanded = None if scenario.duty_cycle_override is not None else scenario.demanded_duty_cycle
    if demanded is not None:  # above 100%, one device cannot carry the daily load
        busy = Q_(demanded * 100, "percent")
        yield _check("duty_cycle", busy, Q_(100, "percent"), "max", "busy fraction of the day")
    held = "weights+KV" if p.kv_cache_b else "weights"  # a decoder's step also holds its KV
    yield _memory_check(scenario, p.memory_required, hw.memory_capacity, held)
    if scenario.latency_slo is not None:
        yield _check("latency", p.latency, scenario.latency_slo, "max", "latency")
    if scenario.throughput_target is not None:
        yield _check("throughput", p.throughput, scenario.throughput_target, "min", "throughput")
    if scenario.power_budget is not None:
        peak = peak_device_power(hw, scenario.radio_power)
        what = (
            "radio TX"
            if scenario.radio_power is not None and peak == scenario.radio_power
            else "inference"
        )
        yield _check("power", peak, scenario.power_budget, "max", f"peak power ({what})")
    if scenario.energy_budget is not None and p.energy is not None:
        yield _check("energy", p.energy, scenario.energy_budget, "max", "energy per inference")
    overloaded = demanded is not None and demanded > 1.0  # no duty cycle to estimate power from
    if (
        scenario.power_source == "battery"
        and scenario.battery_capacity is not None
        and not overloaded
    ):
        life = scenario.battery_capacity / _average_power(scenario)
        limit = scenario.battery_life_target or Q_(1, "day")
        label = "battery life (compute + sleep + radio)"
        if scenario.radio_power is None:
            label = "battery life (compute + sleep)"
        yield _check("battery_life", life.to("day"), limit.to("day"), "min", label)


def _serving_checks(scenario: Scenario, s: Any) -> Iterator[ConstraintCheck]:
    from mlsysim.core.units import Q_

    capacity = scenario.hardware.memory_capacity * s.tensor_parallel
    yield _memory_check(
        scenario, s.memory_required, capacity, f"weights+KV on {s.tensor_parallel} device(s)"
    )
    if scenario.latency_slo is not None:
        yield _check("ttft", s.ttft, scenario.latency_slo, "max", "TTFT")
    if scenario.tpot_slo is not None:
        yield _check("tpot", s.tpot, scenario.tpot_slo, "max", "TPOT")
    if scenario.throughput_target is not None:
        per_replica = Q_(s.tokens_per_second.magnitude, "token/s")
        yield _check(
            "throughput", per_replica, scenario.throughput_target, "min", "tokens/s per replica"
        )


def _training_checks(scenario: Scenario, t: Any) -> Iterator[ConstraintCheck]:
    from mlsysim.core.units import Q_

    yield _memory_check(
        scenario, t.memory_per_device, scenario.hardware.memory_capacity, "model state per device"
    )
    if scenario.training_deadline is not None:
        yield _check(
            "time_to_train", t.time_to_train, scenario.training_deadline, "max", "time to train"
        )
    if scenario.power_budget is not None:
        facility = scenario.hardware.tdp * t.num_devices * t.pue
        yield _check(
            "power",
            Q_(facility.m_as("MW"), "MW"),
            scenario.power_budget.to("MW"),
            "max",
            "facility power (TDP x devices x PUE)",
        )


_CHECKS = {"inference": _inference_checks, "serving": _serving_checks, "training": _training_checks}


def peak_device_power(hardware: Any, radio_power: Any = None) -> Any:
    """The highest draw [W] of a device running inference on ``hardware``: its busy power
    (``HardwareSpec.busy_power``) or, for a device with a radio, the radio's transmit power,
    whichever is larger. They are separate stretches of the day, as in the battery estimate;
    a datasheet's transmit figure is the whole chip's draw."""
    busy = hardware.busy_power.to("W")
    return busy if radio_power is None else max(busy, radio_power.to("W"))


def _average_power(scenario: Scenario) -> Any:
    """Duty-cycled device power: busy power while computing, sleep (else idle) power otherwise,
    plus the radio's average power where the scenario has one."""
    from mlsysim.core.formulas.sustainability import duty_cycle_power

    hw = scenario.hardware
    rest = getattr(hw, "sleep_power", None) or hw.idle_power
    if rest is None:
        raise ValueError(
            f"{hw.name} has no sourced sleep_power or idle_power for a battery estimate"
        )
    average = duty_cycle_power(hw.busy_power, rest, scenario.duty_cycle)
    radio = scenario.radio_average_power
    return average if radio is None else average + radio


def _require_radio(events: Any, airtime: Any, power: Any) -> None:
    """Each radio field finite and >= 0, airtime a time and power a power Quantity."""
    from mlsysim.core.units import Q_, is_quantity

    checks = (("radio_events_per_day", events, None), ("radio_airtime", airtime, "s"),
              ("radio_power", power, "W"))  # fmt: skip
    for name, value, unit in checks:
        if unit is not None and not (
            is_quantity(value) and value.dimensionality == Q_(1, unit).dimensionality
        ):
            raise ValueError(f"argument '{name}' must be a Quantity in {unit}, got {value!r}")
        number = float(value.m_as(unit) if unit else value)
        if not math.isfinite(number) or number < 0:
            raise ValueError(f"argument '{name}' must be finite and >= 0, got {value!r}")


def _overload_message(scenario: Scenario, latency: float, busy: float, demanded: float) -> str:
    """Why one device cannot carry ``inferences_per_day``: d > 1 and the devices it would need."""
    from mlsysim.core.engine.profiles import human_number, human_time

    per_device = SECONDS_PER_DAY * scenario.batch_size / latency
    needed = math.ceil(demanded)
    return (
        f"scenario {scenario.name!r}: argument 'inferences_per_day' = "
        f"{human_number(scenario.inferences_per_day)} at a latency of {human_time(latency)} "
        f"per batch of {scenario.batch_size} needs {human_number(busy)} s of compute per "
        f"86,400 s day on one {scenario.hardware_name}: a demanded busy fraction (duty cycle) "
        f"of {human_number(demanded)}, above 1. The load needs {needed} devices per unit; one "
        f"device serves at most {human_number(math.floor(per_device))} inferences a day"
    )


# ---------------------------------------------------------------- the Applications
class _Applications:
    """The book's scenarios by name: ``Applications.Doorbell``, ``Applications["AV"]``."""

    def _table(self) -> dict[str, Scenario]:
        return _build_applications()

    def names(self) -> list[str]:
        return list(self._table())

    def __getitem__(self, name: str) -> Scenario:
        table = self._table()
        if name not in table:
            raise UnknownNameError("application", name, table)
        return table[name]

    def __getattr__(self, name: str) -> Scenario:
        if name.startswith("_"):
            raise AttributeError(name)
        return self[name]

    def __iter__(self) -> Iterator[Scenario]:
        return iter(self._table().values())

    def __contains__(self, name: object) -> bool:
        return name in self._table()

    def __dir__(self) -> list[str]:
        return [*self.names(), "names"]

    def __repr__(self) -> str:
        return f"<Applications: {', '.join(self.names())}>"


Applications = _Applications()


# ---------------------------------------------------------------- scenario parameters
SCENARIO_TEXT = ("model", "hardware", "deployment", "workload", "precision", "power_source")
SCENARIO_COUNTS = ("batch_size", "fleet_size", "prompt_tokens", "output_tokens", "tensor_parallel")
SCENARIO_NUMBERS = ("inferences_per_day", "duty_cycle_override", "radio_events_per_day")
SCENARIO_QUANTITIES = {  # field -> the unit its value must reduce to
    "latency_slo": "s",
    "tpot_slo": "s",
    "power_budget": "W",
    "energy_budget": "J",
    "memory_budget": "byte",
    "battery_capacity": "J",
    "battery_life_target": "s",
    "radio_airtime": "s",
    "radio_power": "W",
    "training_tokens": "token",
    "training_deadline": "s",
}
PARALLELISM_KEYS = ("data", "tensor", "pipeline", "zero_stage", "global_batch_tokens")
PARALLELISM_QUANTITIES = {"network_bandwidth": "byte/s", "network_latency": "s"}


@functools.cache
def _build_applications(path: Any = None) -> dict[str, Scenario]:
    """The book's scenarios from ``data/scenarios.yaml`` (each number cited or an assumption)."""
    from mlsysim.core.catalog_loader import DATA_DIR, CatalogFile

    file = CatalogFile(path or DATA_DIR / "scenarios.yaml")
    fields_ = {name: _scenario_fields(file, name) for name in file.entries}
    built: dict[str, Scenario] = {}

    def build(name: str) -> Scenario:
        if name not in built:
            values = dict(fields_[name])
            serving = values.pop("serving", None)
            if serving is not None:
                if serving not in fields_ or serving == name:
                    raise file.error(name, "serving", f"{serving!r} is not another scenario here")
                values["serving"] = build(serving)
            built[name] = Scenario(name=name, **values)
        return built[name]

    return {name: build(name) for name in fields_}


def _scenario_fields(file: Any, name: str) -> dict[str, Any]:
    """One entry's Scenario keyword arguments, with ``sources`` keyed by field name."""
    from mlsysim.core.units import Q_

    entry = file.entries[name]
    known = {"description", "serving", "parallelism", *SCENARIO_TEXT, *SCENARIO_COUNTS}
    known |= {*SCENARIO_NUMBERS, *SCENARIO_QUANTITIES, "throughput_target"}
    values: dict[str, Any] = {}
    sources: dict[str, Any] = {}
    for key, spec in entry.items():
        if key not in known:
            raise file.error(name, key, f"unknown field; valid: {', '.join(sorted(known))}")
        if key in ("description", "serving"):
            values[key] = str(spec)
        elif key in SCENARIO_TEXT:
            if isinstance(spec, Mapping):
                sources[key] = file.source(name, key, spec)
                spec = spec.get("value")
            values[key] = str(spec)
        elif key == "parallelism":
            values[key] = _parallelism(file, name, spec)
            sources[key] = file.source(name, key, spec)
        else:
            unit = SCENARIO_QUANTITIES.get(key, "dimensionless")
            if key == "throughput_target":
                serving = entry.get("workload") == "serving"
                unit = "token/s" if serving else "sample/s"
            raw = file.quantity(name, key, spec, unit)
            sources[key] = raw.source
            number = _as_written(raw.magnitude, spec["value"])
            if key in SCENARIO_COUNTS:
                if not isinstance(number, int):
                    raise file.error(name, key, f"expected a whole number, got {number!r}")
                values[key] = number
            elif key in SCENARIO_NUMBERS:
                values[key] = number
            else:
                values[key] = Q_(number, raw.unit)
    for key in ("description", "model", "hardware", "deployment"):
        if key not in values:
            raise file.error(name, key, "missing required field")
    values["model_name"] = values.pop("model")
    values["hardware_name"] = values.pop("hardware")
    values["sources"] = sources
    return values


def _as_written(magnitude: float, value: Any) -> int | float:
    """An int when the YAML wrote an integer (``5000``, ``"200 ms"``), else the float."""
    head = str(value).split(" ", 1)[0]
    return int(magnitude) if head.lstrip("-").isdigit() else magnitude


def _parallelism(file: Any, name: str, spec: Any) -> Any:
    from mlsysim.core.engine.train import Parallelism
    from mlsysim.core.units import Q_

    if not isinstance(spec, Mapping):
        raise file.error(name, "parallelism", "expected {data, tensor, pipeline, ..., source}")
    known = {*PARALLELISM_KEYS, *PARALLELISM_QUANTITIES, "source", "note", "assumption"}
    unknown = set(spec) - known
    if unknown:
        raise file.error(name, "parallelism", f"unknown key {sorted(unknown)[0]!r}")
    values = {key: spec[key] for key in PARALLELISM_KEYS if key in spec}
    for key, unit in PARALLELISM_QUANTITIES.items():  # "50 GB/s", under the parallelism's source
        if key in spec:
            values[key] = Q_(*file.number(name, f"parallelism.{key}", spec[key], unit))
    return Parallelism(**values)
