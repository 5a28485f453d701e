"""Sustainability lab: fleet energy from the duty cycle, operational and embodied carbon, water.

Per device: P_avg = d * P_active + (1 - d) * P_sleep (``duty_cycle_power``; P_active = TDP,
P_sleep = sleep power, else idle power), plus radio energy where the scenario has one.
E_IT = N * (P_avg * T + E_radio). Operational carbon = E_IT * PUE * CI, PUE for datacenters
only (Patterson et al. 2021). Embodied carbon amortised over the lifetime (Gupta et al. 2021).
"""

from __future__ import annotations

from typing import Any

from mlsysim.sim.base import BaseSimulation, Lab
from mlsysim.sim.choices import (
    DURATION,
    DUTY_CYCLE,
    EMBODIED,
    FLEET_SIZE,
    INCLUDE_RADIO,
    LIFETIME,
    PUE,
    REGION,
)
from mlsysim.sim.ledger import Ledger


def device_power(lab: Lab) -> tuple[Any, Any]:
    """(average power per device [W], duty cycle) from the scenario (or the ``duty_cycle`` choice).

    Training and serving run flat out (d = 1); inference sleeps between requests.
    """
    from mlsysim.core.formulas.sustainability import duty_cycle_power
    from mlsysim.core.units import Q_

    hw = lab.hardware
    chosen = lab.choices.get("duty_cycle")
    duty = 1.0 if lab.is_training else (lab.scenario.duty_cycle if chosen is None else chosen)
    if lab.is_training and chosen is not None:
        lab.note(f"duty_cycle {chosen} not applied: a training run keeps every device busy")
    rest = Q_(0.0, "W")
    if duty < 1.0:
        rest = hw.sleep_power
        if rest is None:
            why = f"the power of {hw.name} between inferences (duty cycle {duty:.3g})"
            rest = lab.hardware_value("idle_power", why)
    return duty_cycle_power(hw.busy_power, rest, duty), Q_(duty, "")


def radio_energy_per_device(lab: Lab) -> Any:
    """E_radio = the scenario's radio average power (events/day x airtime x radio power / day)
    x the duration [J], or None without a radio."""
    from mlsysim.core.formulas.sustainability import energy

    scenario = lab.scenario
    if not lab.choices.get("include_radio", True) or scenario.radio_power is None:
        return None
    for key in ("radio_events_per_day", "radio_airtime", "radio_power"):
        lab.record_source(f"{scenario.name}.{key}", scenario.sources.get(key))
    lab.note(
        "radio energy adds to compute+sleep energy; sleep power during airtime is not "
        "subtracted (<0.01 %)"
    )
    return energy(scenario.radio_average_power, lab.duration)


def peak_power(lab: Lab) -> Any:
    """The device's highest draw [W], as ``Scenario.peak_power``: its busy power or, when the
    radio counts (choice ``include_radio``), the radio's transmit power, the larger."""
    from mlsysim.core.scenarios import peak_device_power

    counted = lab.choices.get("include_radio", True)
    return peak_device_power(lab.hardware, lab.scenario.radio_power if counted else None)


def fleet_energy(lab: Lab) -> dict[str, Any]:
    """IT energy of the fleet or cluster over the duration, its parts and the facility energy."""
    from mlsysim.core.formulas.sustainability import energy

    average, duty = device_power(lab)
    radio = radio_energy_per_device(lab)
    per_device = energy(average, lab.duration)
    if radio is not None:
        per_device = per_device + radio
    it_energy = (per_device * lab.fleet_size).to("kWh")
    return {
        "duty_cycled_power": average.to("W"),
        "average_power": (per_device / lab.duration).to("W"),
        "duty_cycle": duty,
        "radio_energy": None if radio is None else (radio * lab.fleet_size).to("kWh"),
        "it_energy": it_energy,
        "pue": lab.pue,
        "energy": (it_energy * lab.pue).to("kWh"),
    }


def embodied_carbon(lab: Lab) -> Any:
    """N x embodied per device x T / lifetime [kgCO2e], from the choices else the catalog;
    None (with a note) when either the embodied carbon or the lifetime is unsourced."""
    from mlsysim.core.formulas.sustainability import embodied_carbon_amortized
    from mlsysim.core.units import Q_

    per_device, lifetime = lab.choices.get("embodied_kg"), lab.choices.get("lifetime_years")
    if per_device is None:
        per_device = lab.hardware_value("embodied_carbon", "embodied carbon", required=False)
    else:
        per_device = Q_(per_device, "kgCO2e")
    if lifetime is None:
        lifetime = lab.hardware_value("lifetime", "embodied amortisation", required=False)
    else:
        lifetime = Q_(lifetime, "year")
    if per_device is None or lifetime is None:
        lab.note(
            f"embodied carbon not included: no sourced embodied_carbon and lifetime for "
            f"{lab.hardware.name} (choices embodied_kg and lifetime_years supply them)"
        )
        return None
    amortised = embodied_carbon_amortized(per_device * lab.fleet_size, lifetime, lab.duration)
    return amortised.to("kgCO2e")


def fill_sustainability(ledger: Ledger, lab: Lab) -> dict[str, Any]:
    """Write energy, carbon (operational + embodied), intensity and water into the ledger."""
    from mlsysim.core.formulas.sustainability import operational_carbon

    section = ledger.sustainability
    energies = fleet_energy(lab)
    for key, value in energies.items():
        section[key] = value
    grid = lab.grid
    lab.record_source(f"{grid.name}.carbon_intensity", grid.provenance.get("carbon_intensity"))
    operational = operational_carbon(energies["it_energy"], grid.carbon_intensity, lab.pue)
    embodied = embodied_carbon(lab)
    section["carbon_intensity"] = grid.carbon_intensity
    section["operational_carbon"] = operational.to("kgCO2e")
    section["embodied_carbon"] = embodied
    total = operational if embodied is None else operational + embodied
    section["carbon"] = total.to("kgCO2e")
    water = None
    if grid.water_intensity is not None:
        water = (energies["energy"] * grid.water_intensity).to("L")
    section["water"] = water
    return energies


class SustainabilitySimulation(BaseSimulation):
    """Region, PUE, duty cycle and duration -> energy, operational + embodied carbon, water."""

    choices = (
        REGION,
        DURATION,
        FLEET_SIZE,
        PUE,
        DUTY_CYCLE,
        INCLUDE_RADIO,
        EMBODIED,
        LIFETIME,
    )

    def fill(self, ledger: Ledger, lab: Lab) -> None:
        fill_sustainability(ledger, lab)
