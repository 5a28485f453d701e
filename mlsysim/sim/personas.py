"""Personas: who is running the lab, at what scale, under which primary constraint.

``Personas.TinyPioneer`` runs fleets of MCUs and answers to a power budget; ``CloudTitan`` runs
accelerator clusters and answers to time (a training deadline or a serving latency SLO). A
persona's ``constraint`` names ledger metrics and the scenario attribute that bounds each; the
first one the scenario sets is reported in ``ledger.constraint`` (met / not met, with margin).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from mlsysim.errors import UnknownNameError


@dataclass(frozen=True)
class ConstraintSpec:
    """A ledger metric ("performance.latency") bounded by a scenario attribute ("latency_slo").

    ``kind`` is "max" (achieved <= limit) or "min" (achieved >= limit).
    """

    name: str
    metric: str
    scenario_attribute: str
    kind: str = "max"


@dataclass(frozen=True)
class Persona:
    """A lab role: ``scale`` (typical fleet or cluster size) in ``scale_unit``, the
    ``deployment`` it works in, and its primary constraint(s) in order of preference.

    The ledger uses the scenario's ``fleet_size`` (or the ``fleet_size`` choice); ``scale`` is
    the persona's typical size, shown in its description.
    """

    name: str
    title: str
    deployment: str
    scale: int
    scale_unit: str
    constraints: tuple[ConstraintSpec, ...]
    description: str

    @property
    def primary_constraint(self) -> str:
        return self.constraints[0].name

    def __str__(self) -> str:
        return (
            f"{self.name} ({self.title}): {self.scale:,} {self.scale_unit}, "
            f"{self.deployment} deployments, primary constraint: {self.primary_constraint}"
        )


_PERSONAS = (
    Persona(
        name="CloudTitan",
        title="hyperscale ML infrastructure lead",
        deployment="datacenter",
        scale=16_384,
        scale_unit="accelerators",
        constraints=(
            ConstraintSpec("time to train", "performance.time_to_train", "training_deadline"),
            ConstraintSpec("time to first token", "performance.ttft", "latency_slo"),
            ConstraintSpec("latency", "performance.latency", "latency_slo"),
        ),
        description="Trains and serves frontier models on clusters; cost and time rule.",
    ),
    Persona(
        name="EdgeGuardian",
        title="edge perception engineer",
        deployment="edge",
        scale=1_000,
        scale_unit="edge devices",
        constraints=(ConstraintSpec("latency", "performance.latency", "latency_slo"),),
        description="Runs safety-critical perception on vehicles and gateways; deadlines rule.",
    ),
    Persona(
        name="MobileNomad",
        title="on-device ML engineer",
        deployment="mobile",
        scale=1_000_000,
        scale_unit="phones",
        constraints=(
            ConstraintSpec(
                "energy per inference", "performance.energy_per_inference", "energy_budget"
            ),
            ConstraintSpec("latency", "performance.latency", "latency_slo"),
        ),
        description="Ships models inside phone apps; the battery rules.",
    ),
    Persona(
        name="TinyPioneer",
        title="TinyML fleet engineer",
        deployment="tiny",
        scale=10_000_000,
        scale_unit="devices",
        constraints=(
            ConstraintSpec("power budget", "performance.peak_power", "power_budget"),
            ConstraintSpec("latency", "performance.latency", "latency_slo"),
        ),
        description="Deploys MCUs by the million on batteries; the power budget rules.",
    ),
)


class _Personas:
    """``Personas.TinyPioneer``, ``Personas["CloudTitan"]``; unknown -> ``UnknownNameError``."""

    def __init__(self, personas: tuple[Persona, ...]):
        self._table = {persona.name: persona for persona in personas}

    def names(self) -> list[str]:
        return list(self._table)

    def __getitem__(self, name: str) -> Persona:
        if name not in self._table:
            raise UnknownNameError("persona", name, self._table)
        return self._table[name]

    def __getattr__(self, name: str) -> Persona:
        if name.startswith("_"):
            raise AttributeError(name)
        return self[name]

    def __iter__(self) -> Iterator[Persona]:
        return iter(self._table.values())

    def __contains__(self, name: object) -> bool:
        return name in self._table

    def __dir__(self) -> list[str]:
        return [*self._table, "names"]

    def for_deployment(self, deployment: str) -> list[str]:
        return [p.name for p in self if p.deployment == deployment]

    def __repr__(self) -> str:
        return f"<Personas: {', '.join(self._table)}>"


Personas = _Personas(_PERSONAS)
