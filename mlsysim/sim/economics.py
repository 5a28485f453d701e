"""Economics lab: capex from sourced unit costs, opex from energy x regional price, TCO.

capex = unit cost x N (accelerators or devices only: no servers, network, building or
enclosure); opex = E_IT x PUE x price (``energy_cost``; PUE for datacenters only);
TCO = capex + opex over the duration.
"""

from __future__ import annotations

from typing import Any

from mlsysim.errors import CatalogError
from mlsysim.sim.base import BaseSimulation, Lab
from mlsysim.sim.choices import DURATION, DUTY_CYCLE, FLEET_SIZE, INCLUDE_RADIO, PUE, REGION
from mlsysim.sim.ledger import Ledger
from mlsysim.sim.sustainability import fleet_energy


def electricity_price(lab: Lab) -> Any:
    """The region's sourced price, or a ``CatalogError`` naming the regions that have one."""
    from mlsysim.core.catalogs import Grids

    grid = lab.grid
    if grid.electricity_price is None:
        priced = [g.name for g in Grids if g.electricity_price is not None]
        raise CatalogError(
            f"region {grid.name!r} has no sourced electricity_price in the grid catalog, so "
            f"opex cannot be computed; regions with a price: {', '.join(priced)}"
        )
    lab.record_source(f"{grid.name}.electricity_price", grid.provenance.get("electricity_price"))
    return grid.electricity_price


def fill_economics(ledger: Ledger, lab: Lab, energies: dict | None = None) -> None:
    """Write unit cost, capex, electricity price, opex and TCO into the ledger."""
    from mlsysim.core.formulas.sustainability import energy_cost

    energies = fleet_energy(lab) if energies is None else energies
    section = ledger.economics
    unit_cost = lab.hardware_value("unit_cost", f"the capex of {lab.hardware.name} devices")
    price = electricity_price(lab)
    capex = (unit_cost * lab.fleet_size).to("USD")
    opex = energy_cost(energies["it_energy"], price, energies["pue"]).to("USD")
    section["unit_cost"] = unit_cost.to("USD")
    section["capex"] = capex
    section["electricity_price"] = price
    section["opex"] = opex
    section["tco"] = capex + opex
    lab.note("capex counts the accelerators/devices only (no servers, network, building, casing)")


class EconomicsSimulation(BaseSimulation):
    """Capex (unit cost x count), opex (energy x regional price), TCO over the duration."""

    choices = (REGION, DURATION, FLEET_SIZE, PUE, DUTY_CYCLE, INCLUDE_RADIO)

    def fill(self, ledger: Ledger, lab: Lab) -> None:
        fill_economics(ledger, lab)
