"""SustainabilitySimulation: duty-cycled fleets without PUE, datacenters with it, bad choices."""

from __future__ import annotations

import pytest
from sim_helpers import (
    ESP32_SLEEP_W,
    ESP32_TDP_W,
    RADIO_AIRTIME_S,
    RADIO_EVENTS,
    RADIO_W,
    hand_latency_s,
)

import mlsysim
from mlsysim import Q_
from mlsysim.errors import ChoiceError, UnknownNameError
from mlsysim.sim import SustainabilitySimulation
from mlsysim.sim.personas import Personas


def doorbell():
    return SustainabilitySimulation(mlsysim.Applications.Doorbell, Personas.TinyPioneer)


def test_pue_leaves_a_doorbell_fleet_unchanged():
    low = doorbell().evaluate({"region": "Poland", "pue": 1.0})
    high = doorbell().evaluate({"region": "Poland", "pue": 2.5})
    assert high.sustainability.carbon_kg == low.sustainability.carbon_kg
    assert high.sustainability.energy_kwh == low.sustainability.energy_kwh
    assert high.sustainability.pue.m_as("") == 1.0
    assert any("PUE 2.5 not applied" in note for note in high.notes)


def test_pue_scales_a_datacenter_load():
    sim = SustainabilitySimulation(mlsysim.Applications.Chatbot, Personas.CloudTitan)
    base = sim.evaluate({"region": "US", "pue": 1.1})
    worse = sim.evaluate({"region": "US", "pue": 1.5})
    ratio = worse.sustainability.operational_carbon_kg / base.sustainability.operational_carbon_kg
    assert ratio == pytest.approx(1.5 / 1.1, rel=1e-12)
    assert worse.sustainability.it_energy == base.sustainability.it_energy
    # 1,024 H100 x 700 W flat out for 365 days x PUE 1.1 x 369 g/kWh, by hand:
    it_kwh = 1024 * 0.700 * 365 * 24
    assert base.sustainability.it_energy.m_as("kWh") == pytest.approx(it_kwh, rel=1e-12)
    assert base.sustainability.operational_carbon_kg == pytest.approx(
        it_kwh * 1.1 * 0.369, rel=1e-12
    )


def test_default_pue_is_the_hyperscale_catalog_value_for_datacenters():
    ledger = SustainabilitySimulation("Chatbot", "CloudTitan").evaluate({})
    assert ledger.sustainability.pue.m_as("") == mlsysim.Datacenters.Hyperscale.pue.m_as("")
    assert ledger.sustainability.energy_kwh == pytest.approx(
        ledger.sustainability.it_energy_kwh * 1.10, rel=1e-12
    )


def test_training_energy_matches_the_engine_and_embodied_is_amortised_by_hand():
    ledger = SustainabilitySimulation("GPT4", "CloudTitan").evaluate({"region": "US"})
    run = mlsysim.Applications.GPT4.profile()
    assert ledger.sustainability.energy.m_as("MWh") == pytest.approx(run.energy.m_as("MWh"))
    days = run.time_to_train.m_as("day")
    # 16,384 GPUs x 150 kgCO2e each x (run days / (6 years x 365.25 days))
    embodied = 16_384 * 150 * days / (6 * 365.25)
    assert ledger.sustainability.embodied_carbon_kg == pytest.approx(embodied, rel=1e-9)
    assert ledger.sustainability.carbon_kg == pytest.approx(
        ledger.sustainability.operational_carbon_kg + embodied, rel=1e-12
    )


def test_radio_duty_cycle_and_embodied_choices():
    with_radio = doorbell().evaluate({"region": "Quebec"})
    no_radio = doorbell().evaluate({"region": "Quebec", "include_radio": False})
    radio_kwh = 500 * 1.0 * 1.17 * 365 * 10_000_000 / 3.6e6
    assert with_radio.sustainability.radio_energy_kwh == pytest.approx(radio_kwh, rel=1e-12)
    assert no_radio.sustainability.radio_energy is None
    assert with_radio.sustainability.energy_kwh - no_radio.sustainability.energy_kwh == (
        pytest.approx(radio_kwh, rel=1e-9)
    )
    # duty cycle 0 = asleep all year: 24.75 uW x 8,760 h x 10 M devices
    asleep = doorbell().evaluate({"duty_cycle": 0.0, "include_radio": False})
    assert asleep.sustainability.energy_kwh == pytest.approx(24.75e-9 * 8760 * 1e7, rel=1e-12)
    alone = doorbell().evaluate({"region": "Quebec", "embodied_kg": 3.0})
    # no sourced lifetime for the ESP32 either: embodied_kg alone cannot be amortised
    assert alone.sustainability.embodied_carbon is None
    assert any("embodied carbon not included" in note for note in alone.notes)
    both = doorbell().evaluate({"region": "Quebec", "embodied_kg": 3.0, "lifetime_years": 5})
    embodied = 3.0 * 10_000_000 * 365 / (5 * 365.25)
    assert both.sustainability.embodied_carbon_kg == pytest.approx(embodied, rel=1e-12)
    assert both.sustainability.carbon_kg == pytest.approx(
        with_radio.sustainability.carbon_kg + embodied, rel=1e-12
    )


def test_water_is_none_without_a_sourced_intensity():
    ledger = doorbell().evaluate({"region": "Quebec"})
    assert ledger.sustainability.water is None
    assert ledger.sustainability.water_l is None


@pytest.mark.parametrize(
    ("choices", "error", "message"),
    [
        (
            {"regoin": "Quebec"},
            UnknownNameError,
            "unknown SustainabilitySimulation choice 'regoin'. Did you mean 'region'? Valid: "
            "duration_days, duty_cycle, embodied_kg, fleet_size, include_radio, "
            "lifetime_years, pue, region.",
        ),
        (
            {"duration_days": 0},
            ChoiceError,
            "choice 'duration_days' = 0.0 is out of range; valid: (0, inf) day",
        ),
        (
            {"duration_days": -5},
            ChoiceError,
            "choice 'duration_days' = -5.0 is out of range; valid: (0, inf) day",
        ),
        (
            {"duration_days": "1y"},
            ChoiceError,
            "choice 'duration_days' must be a number ((0, inf) day), got str '1y'",
        ),
        ({"pue": 0.9}, ChoiceError, "choice 'pue' = 0.9 is out of range; valid: [1, 3]"),
        (
            {"duty_cycle": 1.5},
            ChoiceError,
            "choice 'duty_cycle' = 1.5 is out of range; valid: [0, 1]",
        ),
        (
            {"fleet_size": 2.5},
            ChoiceError,
            "choice 'fleet_size' must be an integer ([1, inf) device), got float 2.5",
        ),
        (
            {"include_radio": "yes"},
            ChoiceError,
            "choice 'include_radio' must be true/false (True or False), got str 'yes'",
        ),
    ],
)
def test_bad_choices_name_the_choice_and_the_valid_range(choices, error, message):
    with pytest.raises(error) as caught:
        doorbell().evaluate(choices)
    assert str(caught.value) == message


def test_unknown_region_lists_close_names():
    with pytest.raises(UnknownNameError) as caught:
        doorbell().evaluate({"region": "Quebek"})
    assert str(caught.value).startswith(
        "unknown choice 'region' value 'Quebek'. Did you mean 'Quebec'? Valid: Australia,"
    )
    assert isinstance(caught.value, KeyError)


def test_water_is_facility_energy_times_the_grid_water_intensity(monkeypatch):
    from mlsysim.core.catalogs import GridRegion
    from mlsysim.sim.base import Lab

    wet = GridRegion(
        name="Wet",
        display_name="test-only grid",
        basis="lifecycle",
        carbon_intensity=Q_(100, "gCO2e/kWh"),
        electricity_price=None,
        water_intensity=Q_(2.0, "L/kWh"),
    )
    monkeypatch.setattr(Lab, "grid", property(lambda self: wet))
    ledger = SustainabilitySimulation("Chatbot", "CloudTitan").evaluate({"duration_days": 1})
    facility_kwh = 1024 * 0.700 * 24 * 1.10
    assert ledger.sustainability.energy_kwh == pytest.approx(facility_kwh, rel=1e-12)
    assert ledger.sustainability.water_l == pytest.approx(2.0 * facility_kwh, rel=1e-12)


def test_a_training_run_ignores_a_duty_cycle_choice_and_says_so():
    sim = SustainabilitySimulation("GPT4", "CloudTitan")
    busy, chosen = sim.evaluate({}), sim.evaluate({"duty_cycle": 0.1})
    assert chosen.sustainability.energy_kwh == busy.sustainability.energy_kwh
    assert "duty_cycle 0.1 not applied: a training run keeps every device busy" in chosen.notes


# The doorbell (ESP32-S3, VWW int8) asked for 2,000,000 inferences a day: by hand (sim_helpers),
# latency = 15.0 MFLOP / (15.36 GFLOP/s x 0.018) + 100 us = 54.353 ms; busy = 2e6 x 54.353 ms =
# 108,707 s of a 86,400 s day: d = 1.258 > 1, so 2 devices; one serves 86,400 s / 54.353 ms =
# 1,589,594 a day.
OVERLOADED = (
    "scenario 'Doorbell': argument 'inferences_per_day' = 2,000,000 at a latency of 54.4 ms per "
    "batch of 1 needs 108,707 s of compute per 86,400 s day on one ESP32_S3: a demanded busy "
    "fraction (duty cycle) of 1.26, above 1. The load needs 2 devices per unit; one device "
    "serves at most 1,589,594 inferences a day"
)


def overloaded_doorbell(inferences_per_day=2_000_000):
    import dataclasses

    return dataclasses.replace(mlsysim.Applications.Doorbell, inferences_per_day=inferences_per_day)


def test_a_load_one_device_cannot_carry_is_an_error_not_a_capped_duty_cycle():
    """Regression: d was min(1, demanded), so a fleet busy 6.65x a day reported 1/6.65 of its
    energy. The sims refuse the load and name what it needs; Scenario.evaluate() reports it as
    a failed constraint, as it reports every other one."""
    latency = hand_latency_s()
    assert 2_000_000 * latency == pytest.approx(108_706.9, abs=0.1)
    assert 86_400 / latency == pytest.approx(1_589_594.86, abs=0.01)
    scenario = overloaded_doorbell()
    verdict = scenario.evaluate()
    assert verdict.feasible is False
    (overload,) = verdict.violations
    assert overload.reason == "busy fraction of the day 126 % > 100 % (-26% margin)"
    assert "battery_life" not in [c.name for c in verdict.constraints]  # no duty cycle to use
    for run in (
        lambda: scenario.duty_cycle,
        lambda: SustainabilitySimulation(scenario, Personas.TinyPioneer).evaluate({}),
        lambda: mlsysim.sim.ResourceSimulation(scenario, "TinyPioneer").evaluate({}),
    ):
        with pytest.raises(ChoiceError) as caught:
            run()
        assert str(caught.value) == OVERLOADED


def test_a_load_that_fills_the_day_exactly_is_a_duty_cycle_of_one():
    latency = hand_latency_s()
    busiest = overloaded_doorbell(86_400 / latency)
    assert busiest.duty_cycle == pytest.approx(1.0, rel=1e-12)
    ledger = SustainabilitySimulation(busiest, Personas.TinyPioneer).evaluate(
        {"include_radio": False, "duration_days": 1, "fleet_size": 1}
    )
    assert ledger.sustainability.energy.m_as("J") == pytest.approx(0.239 * 86_400, rel=1e-9)


def test_a_duty_cycle_override_outside_zero_to_one_is_refused():
    import dataclasses

    scenario = dataclasses.replace(mlsysim.Applications.Doorbell, duty_cycle_override=1.2)
    with pytest.raises(ChoiceError) as caught:
        SustainabilitySimulation(scenario, Personas.TinyPioneer).evaluate({})
    assert str(caught.value) == (
        "scenario 'Doorbell': argument 'duty_cycle_override' = 1.2 is out of range; valid: [0, 1]"
    )


def test_scenario_battery_check_counts_the_radio_as_the_lab_does():
    """Scenario.evaluate()'s battery life counts the scenario's Wi-Fi radio (41 days, the
    lab's figure); without the radio the lab gives the 397-day compute + sleep floor."""
    checks = {c.name: c for c in mlsysim.Applications.Doorbell.evaluate().constraints}
    duty = 5_000 * hand_latency_s() / 86_400  # 3.145e-3, as in docs/labs.md
    floor_w = duty * ESP32_TDP_W + (1 - duty) * ESP32_SLEEP_W  # 776.4 uW
    radio_w = RADIO_EVENTS * RADIO_AIRTIME_S * RADIO_W / 86_400  # 6,770.8 uW
    life_days = 7.4 * 3600 / (floor_w + radio_w) / 86_400
    assert life_days == pytest.approx(40.854, abs=0.001)
    assert checks["battery_life"].achieved.m_as("day") == pytest.approx(life_days, rel=1e-12)
    assert checks["battery_life"].reason == (
        "battery life (compute + sleep + radio) 40.9 d < 365 d (-89% margin)"
    )
    wifi = doorbell().evaluate({"duration_days": 365})
    wifi_days = 7.4 / (wifi.sustainability.average_power.m_as("W") * 24)
    assert wifi_days == pytest.approx(life_days, rel=1e-9)
    quiet = doorbell().evaluate({"include_radio": False, "duration_days": 365})
    quiet_days = 7.4 / (quiet.sustainability.average_power.m_as("W") * 24)
    assert quiet_days == pytest.approx(7.4 * 3600 / floor_w / 86_400, rel=1e-9)  # 397.1 d
