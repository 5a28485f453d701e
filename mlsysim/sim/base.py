"""``BaseSimulation``: a lab = a scenario seen by a persona, a declared set of choices, and a
``fill(ledger, lab)`` that writes Quantities into the Ledger.

Subclass it to add a lab: list ``choices`` (one tuple, the single place they are declared) and
implement ``fill``. ``evaluate(choices)`` validates the dict first (``ChoiceError`` /
``UnknownNameError`` naming the choice and what is valid), fills the ledger, reports the
persona's primary constraint and checks physical sanity (``Ledger.validate``).
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any, ClassVar

from mlsysim.errors import ChoiceError
from mlsysim.sim.choices import Choice, resolve_choices
from mlsysim.sim.ledger import ConstraintResult, Ledger
from mlsysim.sim.personas import Persona, Personas

DEFAULT_DURATION_DAYS = 365.0


class Lab:
    """What a ``fill`` reads: the scenario, persona, validated choices and derived context.

    ``fleet_size``, ``duration`` (Quantity), ``grid`` (GridRegion), ``is_datacenter``, ``pue``
    (applied: the choice or ``Datacenters.Hyperscale`` for datacenters, 1 for device fleets),
    ``profile`` (the engine's result) and ``record_source`` for labelled assumptions.
    """

    def __init__(self, scenario: Any, persona: Persona, choices: dict, ledger: Ledger):
        self.scenario = scenario
        self.persona = persona
        self.choices = choices
        self.ledger = ledger

    @property
    def hardware(self) -> Any:
        return self.scenario.hardware

    @property
    def is_training(self) -> bool:
        return self.scenario.workload == "training"

    @property
    def is_datacenter(self) -> bool:
        return self.scenario.deployment == "datacenter"

    @functools.cached_property
    def fleet_size(self) -> int:
        chosen = self.choices.get("fleet_size")
        return int(self.scenario.fleet_size if chosen is None else chosen)

    @functools.cached_property
    def profile(self) -> Any:
        """Engine result: solve (inference), serve or train; a resized cluster is re-trained
        with the scenario's own layout (tensor x pipeline kept, data degree rescaled)."""
        scenario = self.scenario
        if self.is_training and self.fleet_size != scenario.fleet_size:
            scenario = dataclasses.replace(
                scenario, fleet_size=self.fleet_size, parallelism=self._resized_layout()
            )
        return scenario.profile()

    def _resized_layout(self) -> Any:
        """The scenario's ``Parallelism`` with data = fleet_size / (tensor x pipeline)."""
        layout = self.scenario.parallelism
        if layout is None:
            return None
        group = layout.tensor * layout.pipeline
        if self.fleet_size % group:
            raise ChoiceError(
                f"choice 'fleet_size' = {self.fleet_size} does not split into "
                f"{self.scenario.name}'s model-parallel groups of tensor x pipeline = "
                f"{layout.tensor} x {layout.pipeline} = {group} devices; "
                f"valid: multiples of {group}"
            )
        return dataclasses.replace(layout, data=self.fleet_size // group)

    @functools.cached_property
    def duration(self) -> Any:
        from mlsysim.core.units import Q_

        days = self.choices.get("duration_days")
        if days is None:
            if self.is_training:
                return self.profile.time_to_train.to("day")
            days = DEFAULT_DURATION_DAYS
        return Q_(days, "day")

    @functools.cached_property
    def grid(self) -> Any:
        from mlsysim.core.catalogs import Grids

        return Grids[self.choices.get("region") or "US"]

    @functools.cached_property
    def pue(self) -> Any:
        """PUE applied to energy: datacenters only; device fleets get exactly 1."""
        from mlsysim.core.catalogs import Datacenters
        from mlsysim.core.units import Q_

        chosen = self.choices.get("pue")
        if not self.is_datacenter:
            if chosen is not None:
                self.note(
                    f"PUE {chosen} not applied: a {self.scenario.deployment} fleet sits in homes "
                    "and pockets, not a datacenter"
                )
            return Q_(1.0, "")
        if chosen is not None:
            return Q_(chosen, "")
        self.record_source("pue", Datacenters.Hyperscale.provenance.get("pue"))
        return Datacenters.Hyperscale.pue.to("")

    def note(self, text: str) -> None:
        if text not in self.ledger.notes:
            self.ledger.notes.append(text)

    def record_source(self, key: str, source: Any) -> None:
        """Keep the Source of a value the ledger used; assumptions are also noted."""
        if source is None:
            return
        self.ledger.sources[key] = source
        if getattr(source, "is_assumption", False):
            self.note(f"assumption {key}: {source.note}")

    def hardware_value(self, field: str, purpose: str, required: bool = True) -> Any:
        """The part's sourced value, else its labelled assumption (recorded), else an error."""
        from mlsysim.sim.assumptions import hardware_value

        found = hardware_value(self.hardware, field, purpose, required)
        if found is None:
            return None
        value, source = found
        if getattr(source, "is_assumption", False):
            self.record_source(f"{self.hardware.name}.{field}", source)
        return value


class BaseSimulation:
    """A lab. Subclasses declare ``choices`` and implement ``fill(ledger, lab)``."""

    choices: ClassVar[tuple[Choice, ...]] = ()

    def __init__(self, scenario: Any, persona: Persona | str):
        if isinstance(scenario, str):
            from mlsysim.core.scenarios import Applications

            scenario = Applications[scenario]
        if isinstance(persona, str):
            persona = Personas[persona]
        if not isinstance(persona, Persona):
            raise ChoiceError(
                f"persona must be one of mlsysim.sim.Personas ({', '.join(Personas.names())}), "
                f"got {type(persona).__name__}"
            )
        if persona.deployment != scenario.deployment:
            fitting = ", ".join(Personas.for_deployment(scenario.deployment))
            raise ChoiceError(
                f"persona {persona.name} works on {persona.deployment} deployments, but scenario "
                f"{scenario.name} is a {scenario.deployment} deployment; use {fitting}"
            )
        self.scenario = scenario
        self.persona = persona

    @classmethod
    def describe_choices(cls) -> str:
        """One line per accepted choice: name, valid range, default, help."""
        return "\n".join(choice.describe() for choice in cls.choices)

    def evaluate(self, choices: dict | None = None) -> Ledger:
        """Validate ``choices``, fill a fresh Ledger, report the persona constraint, validate."""
        resolved = resolve_choices(self.choices, choices, type(self).__name__)
        ledger = Ledger(
            title=f"{type(self).__name__}: {self.scenario.name} ({self.persona.name})",
            choices=resolved,
        )
        lab = Lab(self.scenario, self.persona, resolved, ledger)
        self.fill(ledger, lab)
        ledger.constraint = self.primary_constraint(ledger)
        return ledger.validate()

    def fill(self, ledger: Ledger, lab: Lab) -> None:
        raise NotImplementedError(f"{type(self).__name__} must implement fill(ledger, lab)")

    def primary_constraint(self, ledger: Ledger) -> ConstraintResult | None:
        """The persona's first constraint whose scenario limit and ledger metric both exist."""
        for spec in self.persona.constraints:
            limit = getattr(self.scenario, spec.scenario_attribute, None)
            section, field = spec.metric.split(".")
            achieved = ledger.sections()[section]._values.get(field)
            if limit is None or achieved is None:
                continue
            return ConstraintResult(
                spec.name,
                spec.metric,
                achieved,
                limit,
                spec.kind,
                f"scenario.{spec.scenario_attribute}",
            )
        names = ", ".join(spec.name for spec in self.persona.constraints)
        ledger.notes.append(f"{self.persona.name}'s constraint ({names}) not reported by this lab")
        return None
