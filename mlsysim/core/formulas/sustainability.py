"""Energy, duty-cycled power, operational and embodied carbon, electricity cost.

Operational carbon = energy x PUE x grid intensity: Patterson et al. 2021, "Carbon Emissions and
Large Neural Network Training", arXiv:2104.10350. Embodied carbon amortised over the device
lifetime: Gupta et al. 2021, "Chasing Carbon: The Elusive Environmental Footprint of Computing",
HPCA. PUE (The Green Grid 2007) applies to datacenters only; pass pue=1 for devices.
"""

from __future__ import annotations

from mlsysim.core.formulas._formula import formula, require_range


@formula("J", non_negative=("power", "time"), power="W", time="s")
def energy(power, time):
    """Energy E = P * t [J] (constant average power; 1 W = 1 J/s, SI Brochure 2019)."""
    return power * time


@formula(
    "W",
    non_negative=("active_power", "sleep_power"),
    active_power="W",
    sleep_power="W",
    duty_cycle="",
)
def duty_cycle_power(active_power, sleep_power, duty_cycle):
    """Average power P = d * P_active + (1 - d) * P_sleep [W], duty cycle d in [0, 1].

    The standard model for duty-cycled embedded and TinyML devices (e.g. Banbury et al. 2021,
    "MLPerf Tiny Benchmark").
    """
    require_range(duty_cycle, "duty_cycle", "duty_cycle_power", low=0.0, high=1.0)
    return duty_cycle * active_power + (1.0 - duty_cycle) * sleep_power


def _facility_energy(it_energy, pue, where: str):
    """IT energy scaled by the datacenter's PUE (checked to be >= 1)."""
    require_range(pue, "pue", where, low=1.0)
    return it_energy * pue


@formula(
    "kgCO2e",
    non_negative=("energy", "carbon_intensity"),
    energy="kWh",
    carbon_intensity="gCO2e/kWh",
    pue="",
)
def operational_carbon(energy, carbon_intensity, pue=1.0):
    """Operational emissions C = E * PUE * CI [kgCO2e], PUE >= 1 (facility overhead).

    E is IT energy; CI the grid intensity in gCO2e/kWh. Patterson et al. 2021.
    """
    return _facility_energy(energy, pue, "operational_carbon") * carbon_intensity / 1000.0


@formula(
    "kgCO2e",
    non_negative=("embodied_carbon", "duration"),
    positive=("lifetime",),
    embodied_carbon="kgCO2e",
    lifetime="hour",
    duration="hour",
)
def embodied_carbon_amortized(embodied_carbon, lifetime, duration):
    """Embodied carbon charged to a job C = C_embodied * t_job / t_lifetime [kgCO2e].

    Linear amortisation over the device's service life. Gupta et al. 2021, "Chasing Carbon".
    """
    return embodied_carbon * duration / lifetime


@formula(
    "USD",
    non_negative=("energy", "price"),
    energy="kWh",
    price="USD/kWh",
    pue="",
)
def energy_cost(energy, price, pue=1.0):
    """Electricity cost = E * PUE * price [USD], PUE >= 1 for datacenters, 1 for devices.

    PUE = facility energy / IT energy: The Green Grid 2007, White Paper #6.
    """
    return _facility_energy(energy, pue, "energy_cost") * price
