"""Scenarios: a workload on target hardware under constraints, and the book's ``Applications``.

A ``Scenario`` names a catalog model and hardware part, a deployment ("datacenter", "edge",
"mobile", "tiny"), a workload ("inference", "serving", "training") and its constraints (latency
SLO, power / energy budget, memory, throughput target, fleet size, duty cycle). ``evaluate()``
runs the engine and returns each constraint's margin and a reason. Every parameter carries a
source or is labelled an illustrative assumption in ``scenario.sources``.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from mlsysim.errors import UnknownNameError

DEPLOYMENTS = ("datacenter", "edge", "mobile", "tiny")
WORKLOADS = ("inference", "serving", "training")
SECONDS_PER_DAY = 86400.0


@dataclass(frozen=True)
class ConstraintCheck:
    """One constraint: ``achieved`` against ``limit`` (a maximum or a minimum), its margin and why.

    ``margin`` is limit - achieved for a maximum and achieved - limit for a minimum, so a
    negative margin is a violation; ``margin_fraction`` is margin / limit.
    """

    name: str
    achieved: Any
    limit: Any
    kind: str  # "max" or "min"
    ok: bool
    reason: str

    @property
    def margin(self) -> Any:
        diff = self.limit - self.achieved.to(self.limit.units)
        return diff if self.kind == "max" else -diff

    @property
    def margin_fraction(self) -> float:
        return float((self.margin / self.limit).m_as(""))


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

    Inference: ``latency_slo`` bounds one batch, ``power_budget`` the device's active power,
    ``energy_budget`` the energy per inference, ``throughput_target`` samples/s per device.
    Serving: ``latency_slo`` bounds TTFT, ``tpot_slo`` each output token, ``throughput_target``
    tokens/s per replica. Training: ``training_deadline`` bounds wall-clock time and
    ``power_budget`` the facility power of the whole cluster (``fleet_size`` devices).
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
        """Fraction of time the device computes: the override, else inferences/day x latency / day.

        Datacenter serving and training run continuously (1.0).
        """
        if self.duty_cycle_override is not None:
            return self.duty_cycle_override
        if self.workload != "inference" or self.inferences_per_day is None:
            return 1.0
        busy = self.inferences_per_day * self.profile().latency_s / self.batch_size
        return min(1.0, busy / SECONDS_PER_DAY)

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
    yield _memory_check(scenario, p.memory_required, hw.memory_capacity, "weights")
    if scenario.latency_slo is not None:
        yield _check("latency", p.latency, scenario.latency_slo, "max", "latency")
    if scenario.throughput_target is not None:
        yield _check("throughput", p.throughput, scenario.throughput_target, "min", "throughput")
    if scenario.power_budget is not None:
        yield _check("power", hw.tdp, scenario.power_budget, "max", "active power (TDP)")
    if scenario.energy_budget is not None and p.energy is not None:
        yield _check("energy", p.energy, scenario.energy_budget, "max", "energy per inference")
    if scenario.power_source == "battery" and scenario.battery_capacity is not None:
        life = scenario.battery_capacity / _average_power(scenario)
        limit = scenario.battery_life_target or Q_(1, "day")
        yield _check("battery_life", life.to("day"), limit.to("day"), "min", "battery life")


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


def _average_power(scenario: Scenario) -> Any:
    """Duty-cycled device power: active TDP while computing, sleep (else idle) power otherwise."""
    from mlsysim.core.formulas.sustainability import duty_cycle_power

    hw = scenario.hardware
    rest = getattr(hw, "sleep_power", None) or hw.idle_power
    if rest is None:
        raise ValueError(
            f"{hw.name} has no sourced sleep_power or idle_power for a battery estimate"
        )
    return duty_cycle_power(hw.tdp, rest, scenario.duty_cycle)


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
def _source(title: str, url: str | None, date: str, note: str | None = None) -> Any:
    from mlsysim.core.catalogs import Source

    return Source(title=title, url=url, date=date, note=note)


def _assumption(note: str) -> Any:
    from mlsysim.core.catalogs import Source

    return Source(
        title="illustrative assumption", url=None, date="2026-11", note=note, kind="assumption"
    )


@functools.cache
def _build_applications() -> dict[str, Scenario]:
    """The book's scenarios. Parameters are cited or labelled ``[assumption]`` in ``sources``."""
    from mlsysim.core.engine.train import Parallelism
    from mlsysim.core.units import Q_

    mlperf_llm = _source(
        "MLPerf Inference v4.0 rules: Llama-2-70B server latency constraints (TTFT <= 2 s, "
        "TPOT <= 200 ms)",
        "https://github.com/mlcommons/inference_policies",
        "2024-02",
    )
    llama3 = _source(
        "Dubey et al., 'The Llama 3 Herd of Models', arXiv:2407.21783, Sec. 3.3 and Table 4 "
        "(16,384 H100s; 8 TP x 16 PP x 128 DP; 15.6T tokens; 16M-token batches)",
        "https://arxiv.org/abs/2407.21783",
        "2024-07",
    )
    jetson = _source(
        "NVIDIA Jetson AGX Orin Series data sheet (15-60 W power modes)",
        "https://developer.nvidia.com/embedded/jetson-agx-orin",
        "2023",
    )
    doorbell = Scenario(
        name="Doorbell",
        description=(
            "TinyML person-detection doorbell: MobileNetV1-0.25 VWW (int8) on an "
            "ESP32-S3 that wakes on motion, runs on a battery"
        ),
        model_name="VWW",
        hardware_name="ESP32_S3",
        deployment="tiny",
        precision="int8",
        latency_slo=Q_(200, "ms"),
        power_budget=Q_(1.5, "W"),
        fleet_size=10_000_000,
        inferences_per_day=5_000,
        power_source="battery",
        battery_capacity=Q_(2.0 * 3.7, "Wh"),
        battery_life_target=Q_(365, "day"),
        sources={
            "model": _source(
                "Banbury et al., 'MLPerf Tiny Benchmark' (Visual Wake Words)",
                "https://arxiv.org/abs/2106.07597",
                "2021-06",
            ),
            "latency_slo": _assumption("a chime within 0.2 s of a person arriving feels instant"),
            "power_budget": _assumption("1.5 W: a small 5 V doorbell transformer share"),
            "fleet_size": _assumption("10 million homes, the scale the sim lab uses"),
            "inferences_per_day": _assumption("motion-triggered: ~500 events x 10 frames a day"),
            "battery_capacity": _assumption("one 2,000 mAh 3.7 V Li-ion cell = 7.4 Wh"),
            "battery_life_target": _assumption("one battery change a year"),
        },
    )
    kws = Scenario(
        name="KWS",
        description=(
            "Always-on keyword spotting: DS-CNN (int8) on an nRF52840 wearable, "
            "one 1 s window per second on a coin cell"
        ),
        model_name="KWS",
        hardware_name="nRF52840",
        deployment="tiny",
        precision="int8",
        latency_slo=Q_(100, "ms"),
        fleet_size=1_000_000,
        inferences_per_day=86_400,
        power_source="battery",
        battery_capacity=Q_(0.225 * 3.0, "Wh"),
        battery_life_target=Q_(7, "day"),
        sources={
            "model": _source(
                "Banbury et al., 'MLPerf Tiny Benchmark' (keyword spotting)",
                "https://arxiv.org/abs/2106.07597",
                "2021-06",
            ),
            "latency_slo": _assumption("answer within 0.1 s so a 1 s window every second keeps up"),
            "inferences_per_day": _assumption("one inference per second, all day"),
            "battery_capacity": _source(
                "Energizer CR2032 product datasheet (~225-235 mAh, 3 V)",
                "https://data.energizer.com/pdfs/cr2032.pdf",
                "2023",
            ),
            "battery_life_target": _assumption("a week between charges or cell swaps"),
            "fleet_size": _assumption("one million wearables"),
        },
    )
    av = Scenario(
        name="AV",
        description=(
            "Autonomous-vehicle perception: YOLOv8n (int8) on 8 cameras, batched per "
            "frame on a Jetson AGX Orin, within the 30 FPS camera deadline"
        ),
        model_name="YOLOv8n",
        hardware_name="JetsonAGXOrin",
        deployment="edge",
        precision="int8",
        batch_size=8,
        latency_slo=Q_(1000 / 30, "ms"),
        throughput_target=Q_(8 * 30, "sample/s"),
        power_budget=Q_(60, "W"),
        fleet_size=1_000,
        inferences_per_day=8 * 30 * 3600 * 2,
        sources={
            "latency_slo": _source(
                "30 FPS camera frame period = 33.3 ms (automotive cameras "
                "commonly stream at 30 FPS)",
                None,
                "2024",
                note="1/30 s per frame",
            ),
            "batch_size": _assumption("8 surround cameras processed as one batch per frame"),
            "power_budget": jetson,
            "fleet_size": _assumption("a 1,000-vehicle robotaxi fleet"),
            "inferences_per_day": _assumption("2 h of driving a day at 30 FPS x 8 cameras"),
        },
    )
    smartphone = Scenario(
        name="Smartphone",
        description=(
            "On-device vision: MobileNetV2 (int8) on an A17 Pro Neural Engine for a "
            "30 FPS camera feature"
        ),
        model_name="MobileNetV2",
        hardware_name="A17Pro",
        deployment="mobile",
        precision="int8",
        latency_slo=Q_(1000 / 30, "ms"),
        energy_budget=Q_(0.01 * 15 * 3600 / 10_000, "J"),
        fleet_size=1_000_000,
        inferences_per_day=10_000,
        power_source="battery",
        sources={
            "latency_slo": _assumption("keep up with a 30 FPS viewfinder (33.3 ms per frame)"),
            "energy_budget": _assumption(
                "<= 1% of a ~15 Wh (iPhone 15 Pro class) battery for 10,000 inferences a day"
            ),
            "inferences_per_day": _assumption("10,000 camera frames analysed a day"),
            "fleet_size": _assumption("one million phones"),
        },
    )
    chatbot = Scenario(
        name="Chatbot",
        description=(
            "Cloud chatbot: Llama-3-70B (fp8) on two tensor-parallel H100s, 16 "
            "concurrent chats, 1,024-token prompts, 256-token answers"
        ),
        model_name="Llama3_70B",
        hardware_name="H100",
        deployment="datacenter",
        workload="serving",
        precision="fp8",
        batch_size=16,
        prompt_tokens=1024,
        output_tokens=256,
        tensor_parallel=2,
        latency_slo=Q_(2, "s"),
        tpot_slo=Q_(200, "ms"),
        fleet_size=1_024,
        sources={
            "latency_slo": mlperf_llm,
            "tpot_slo": mlperf_llm,
            "batch_size": _assumption("16 concurrent chats per replica"),
            "prompt_tokens": _assumption("1,024-token prompts with history, 256-token answers"),
            "fleet_size": _assumption("1,024 H100s serving"),
        },
    )
    gpt4_serving = Scenario(
        name="GPT4_Serving",
        description=(
            "Frontier serving, GPT-4 stand-in: a dense 405B model (Llama-3-405B) in "
            "fp8 on an 8-GPU tensor-parallel H100 node"
        ),
        model_name="Llama3_405B",
        hardware_name="H100",
        deployment="datacenter",
        workload="serving",
        precision="fp8",
        batch_size=8,
        prompt_tokens=1024,
        output_tokens=256,
        tensor_parallel=8,
        latency_slo=Q_(2, "s"),
        tpot_slo=Q_(200, "ms"),
        fleet_size=8 * 1_000,
        sources={
            "model": _assumption("GPT-4's size is not public; a dense 405B model stands in"),
            "latency_slo": mlperf_llm,
            "tpot_slo": mlperf_llm,
            "fleet_size": _assumption("1,000 eight-GPU serving nodes"),
        },
    )
    gpt4 = Scenario(
        name="GPT4",
        description=(
            "Frontier LLM pre-training, GPT-4 stand-in: a dense 405B model on 16,384 "
            "H100s for 15.6T tokens (the published Llama 3 405B run), and its serving"
        ),
        model_name="Llama3_405B",
        hardware_name="H100",
        deployment="datacenter",
        workload="training",
        precision="bf16",
        fleet_size=16_384,
        training_tokens=Q_(15.6e12, "token"),
        training_deadline=Q_(100, "day"),
        power_budget=Q_(30, "MW"),
        parallelism=Parallelism(
            data=128, tensor=8, pipeline=16, zero_stage=3, global_batch_tokens=16 * 2**20
        ),
        serving=gpt4_serving,
        sources={
            "model": _assumption(
                "GPT-4's size and data are not public; Llama 3 405B's "
                "published run stands in for a frontier dense pre-training"
            ),
            "fleet_size": llama3,
            "training_tokens": llama3,
            "parallelism": llama3,
            "training_deadline": _assumption(
                "a ~100-day pre-training window (GPT-4 reportedly "
                "trained ~90-100 days; unconfirmed)"
            ),
            "power_budget": _assumption("30 MW of facility power for the cluster"),
        },
    )
    return {s.name: s for s in (doorbell, kws, av, smartphone, chatbot, gpt4, gpt4_serving)}
