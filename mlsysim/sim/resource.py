"""Resource lab: the engine's performance plus sustainability, economics and reliability,
every Ledger section filled from one set of choices.
"""

from __future__ import annotations

from mlsysim.sim.base import BaseSimulation, Lab
from mlsysim.sim.choices import merge
from mlsysim.sim.economics import EconomicsSimulation, fill_economics
from mlsysim.sim.ledger import Ledger
from mlsysim.sim.reliability import ReliabilitySimulation, fill_reliability
from mlsysim.sim.sustainability import SustainabilitySimulation, fill_sustainability, peak_power


def fill_performance(ledger: Ledger, lab: Lab) -> None:
    """Engine.solve / serve / train results as Quantities, per device (or per run)."""
    from mlsysim.core.units import Q_

    section = ledger.performance
    p = lab.profile
    workload = lab.scenario.workload
    section["workload"] = workload
    section["active_power"] = lab.hardware.busy_power.to("W")
    section["peak_power"] = peak_power(lab)
    if workload == "inference":
        section["latency"] = p.latency
        section["throughput"] = p.throughput
        section["bottleneck"] = p.bottleneck
        section["mfu"] = Q_(p.mfu, "")
        section["energy_per_inference"] = p.energy
        section["memory_required"] = p.memory_required.to("kB")
        section["fits"] = bool(p.fits)
        if lab.scenario.inferences_per_day is not None:
            section["inferences_per_day"] = Q_(lab.scenario.inferences_per_day, "1/day")
    elif workload == "serving":
        section["ttft"] = p.ttft
        section["tpot"] = p.tpot
        section["e2e_latency"] = p.e2e_latency
        section["tokens_per_second"] = p.tokens_per_second
        section["bottleneck"] = p.decode_bottleneck
        section["fits"] = bool(p.fits)
    else:
        section["time_to_train"] = p.time_to_train
        section["total_flops"] = p.total_flops
        section["mfu"] = Q_(p.mfu, "")
        section["device_time"] = p.device_hours
        section["fits"] = bool(p.fits)


class ResourceSimulation(BaseSimulation):
    """Performance, sustainability, economics and reliability of one scenario, one ledger."""

    choices = merge(
        SustainabilitySimulation.choices,
        EconomicsSimulation.choices,
        ReliabilitySimulation.choices,
    )

    def fill(self, ledger: Ledger, lab: Lab) -> None:
        fill_performance(ledger, lab)
        energies = fill_sustainability(ledger, lab)
        fill_economics(ledger, lab, energies)
        fill_reliability(ledger, lab)
