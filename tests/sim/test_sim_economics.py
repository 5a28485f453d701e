"""EconomicsSimulation: capex from sourced unit costs, opex by region, TCO = capex + opex."""

from __future__ import annotations

import pytest
from sim_helpers import hand_energy_kwh, thermostat

import mlsysim
from mlsysim.errors import CatalogError, ChoiceError
from mlsysim.sim import EconomicsSimulation


def test_doorbell_tco_by_hand():
    ledger = EconomicsSimulation("Doorbell", "TinyPioneer").evaluate(
        {"region": "Quebec", "duration_days": 365}
    )
    capex = 2.5 * 10_000_000  # ESP32_S3 unit_cost (catalog, labelled assumption) x fleet
    opex = hand_energy_kwh() * 0.045  # Quebec price, no PUE for a device fleet
    assert ledger.economics.capex_usd == pytest.approx(capex, rel=1e-12)
    assert ledger.economics.opex_usd == pytest.approx(opex, rel=1e-12)
    assert ledger.economics.tco_usd == pytest.approx(capex + opex, rel=1e-12)
    assert ledger.economics.unit_cost_usd == 2.5  # an MCU's price, never an H100's


def test_datacenter_opex_includes_pue_by_hand():
    ledger = EconomicsSimulation("Chatbot", "CloudTitan").evaluate(
        {"region": "California", "pue": 1.3, "duration_days": 30}
    )
    it_kwh = 1024 * 0.700 * 30 * 24
    price = mlsysim.Grids.California.electricity_price.m_as("USD/kWh")
    assert ledger.economics.opex_usd == pytest.approx(it_kwh * 1.3 * price, rel=1e-12)
    assert ledger.economics.capex_usd == pytest.approx(1024 * 30_000, rel=1e-12)
    assert ledger.economics.tco_usd == pytest.approx(
        1024 * 30_000 + it_kwh * 1.3 * price, rel=1e-12
    )


def test_a_region_without_a_price_is_an_explicit_error():
    with pytest.raises(CatalogError) as caught:
        EconomicsSimulation("Doorbell", "TinyPioneer").evaluate({"region": "Sweden"})
    message = str(caught.value)
    assert message.startswith(
        "region 'Sweden' has no sourced electricity_price in the grid catalog, so opex cannot "
        "be computed; regions with a price: "
    )
    assert "Quebec" in message and "Poland" in message


def test_an_mcu_without_a_unit_cost_is_never_priced_like_a_gpu():
    scenario = thermostat()
    with pytest.raises(CatalogError, match=r"^STM32F4 has no sourced 'unit_cost'"):
        EconomicsSimulation(scenario, "TinyPioneer").evaluate({})


@pytest.mark.parametrize(
    ("choices", "message"),
    [
        ({"pue": 3.5}, "choice 'pue' = 3.5 is out of range; valid: [1, 3]"),
        (
            {"duration_days": 0.0},
            "choice 'duration_days' = 0.0 is out of range; valid: (0, inf) day",
        ),
        ({"region": ["US"]}, None),
    ],
)
def test_bad_choices(choices, message):
    with pytest.raises(ChoiceError) as caught:
        EconomicsSimulation("Chatbot", "CloudTitan").evaluate(choices)
    if message is None:  # the valid range is every grid region, listed in catalog order
        regions = ", ".join(mlsysim.Grids.names())
        message = f"choice 'region' must be a string (one of {regions}), got list ['US']"
    assert str(caught.value) == message
