"""mlsysim.sim: labs. A persona, a scenario, declared choices, and one Ledger scorecard.

    from mlsysim.sim import ResourceSimulation, Personas
    ledger = ResourceSimulation(mlsysim.Applications.Doorbell, Personas.TinyPioneer).evaluate(
        {"region": "Quebec", "duration_days": 365})
    ledger.sustainability.carbon_kg

Names resolve lazily (``import mlsysim.sim`` does no work). See docs/labs.md.
"""

from __future__ import annotations

from mlsysim._lazy import lazy_exports

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

__getattr__, __dir__ = lazy_exports(__name__, globals(), _EXPORTS)
