"""mlsysim.sim: labs. A persona, a scenario, declared choices, and one Ledger scorecard.

    from mlsysim.sim import ResourceSimulation, Personas
    ledger = ResourceSimulation(mlsysim.Applications.Doorbell, Personas.TinyPioneer).evaluate(
        {"region": "Quebec", "duration_days": 365})
    ledger.sustainability.carbon_kg

Names resolve lazily (``import mlsysim.sim`` does no work). See docs/labs.md.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "Personas": "mlsysim.sim.personas",
    "Persona": "mlsysim.sim.personas",
    "BaseSimulation": "mlsysim.sim.base",
    "Lab": "mlsysim.sim.base",
    "Ledger": "mlsysim.sim.ledger",
    "Choice": "mlsysim.sim.choices",
    "SustainabilitySimulation": "mlsysim.sim.sustainability",
    "ReliabilitySimulation": "mlsysim.sim.reliability",
    "EconomicsSimulation": "mlsysim.sim.economics",
    "ResourceSimulation": "mlsysim.sim.resource",
}

__all__ = list(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'mlsysim.sim' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
