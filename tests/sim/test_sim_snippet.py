"""The issue's doorbell snippet, checked against a hand calculation from raw catalog numbers."""

from __future__ import annotations

import contextlib
import io
import subprocess
import sys
import textwrap

import pytest
from sim_helpers import (
    ESP32_COMPUTE_EFF,
    ESP32_INT8_PEAK,
    ESP32_SLEEP_W,
    ESP32_TDP_W,
    FLEET,
    INFERENCES_PER_DAY,
    LABS_DOC,
    POLAND_G_PER_KWH,
    QUEBEC_G_PER_KWH,
    RADIO_AIRTIME_S,
    RADIO_EVENTS,
    RADIO_W,
    TINY_OVERHEAD_S,
    VWW_MACS,
    doc_examples,
    hand_energy_kwh,
)

import mlsysim
from mlsysim.sim import ResourceSimulation
from mlsysim.sim.personas import Personas

SNIPPET = textwrap.dedent(
    """\
    import mlsysim
    from mlsysim.sim import ResourceSimulation
    scenario = mlsysim.Applications.Doorbell
    persona = mlsysim.sim.Personas.TinyPioneer
    sim = ResourceSimulation(scenario, persona)
    ledger = sim.evaluate({"region": "Quebec", "duration_days": 365})
    print(f"Annual Carbon: {ledger.sustainability.carbon_kg:,.0f} kg CO2e")
    """
)


def test_raw_inputs_match_the_catalogs():
    from mlsysim.core.engine import DEFAULT_EFFICIENCY

    hw, doorbell = mlsysim.Hardware.ESP32_S3, mlsysim.Applications.Doorbell
    assert mlsysim.Models.VWW.flops_per_sample.m_as("MAC") == pytest.approx(VWW_MACS)
    assert hw.peak_flops["int8"].m_as("flop/s") == pytest.approx(ESP32_INT8_PEAK)
    assert hw.compute_efficiency.m_as("") == ESP32_COMPUTE_EFF
    assert DEFAULT_EFFICIENCY["tiny"].overhead_s == TINY_OVERHEAD_S
    assert hw.busy_power.m_as("W") == ESP32_TDP_W  # active_power: one core, as TFLM runs
    assert hw.sleep_power.m_as("W") == pytest.approx(ESP32_SLEEP_W)
    assert (doorbell.inferences_per_day, doorbell.fleet_size) == (INFERENCES_PER_DAY, FLEET)
    assert doorbell.radio_power.m_as("W") == RADIO_W
    assert doorbell.radio_events_per_day == RADIO_EVENTS
    assert doorbell.radio_airtime.m_as("s") == RADIO_AIRTIME_S
    assert mlsysim.Grids.Quebec.carbon_intensity.m_as("gCO2e/kWh") == QUEBEC_G_PER_KWH
    assert mlsysim.Grids.Poland.carbon_intensity.m_as("gCO2e/kWh") == POLAND_G_PER_KWH


def test_snippet_runs_verbatim_and_prints_the_hand_calculation():
    result = subprocess.run(
        [sys.executable, "-c", SNIPPET], capture_output=True, text=True, check=True, timeout=120
    )
    expected_kg = hand_energy_kwh() * QUEBEC_G_PER_KWH / 1000
    assert expected_kg == pytest.approx(15206.24, abs=0.01)  # the number docs/labs.md derives
    assert result.stdout == f"Annual Carbon: {expected_kg:,.0f} kg CO2e\n"
    assert result.stdout == "Annual Carbon: 15,206 kg CO2e\n"


def test_ledger_fields_equal_the_hand_calculation():
    ledger = ResourceSimulation(mlsysim.Applications.Doorbell, Personas.TinyPioneer).evaluate(
        {"region": "Quebec", "duration_days": 365}
    )
    energy = hand_energy_kwh()
    assert ledger.sustainability.energy_kwh == pytest.approx(energy, rel=1e-12)
    assert ledger.sustainability.carbon_kg == pytest.approx(energy * 23e-3, rel=1e-12)
    assert ledger.sustainability.embodied_carbon is None  # no sourced ESP32 embodied carbon
    per_device_kwh = ledger.sustainability.energy_kwh / FLEET
    assert per_device_kwh == pytest.approx(0.06611, rel=1e-3)  # 66 Wh a year, not megawatts
    assert ledger.sustainability.pue.m_as("") == 1.0


def test_quebec_vs_poland_differ_by_their_grid_ratio():
    sim = ResourceSimulation(mlsysim.Applications.Doorbell, Personas.TinyPioneer)
    quebec = sim.evaluate({"region": "Quebec", "duration_days": 365})
    poland = sim.evaluate({"region": "Poland", "duration_days": 365})
    ratio = poland.sustainability.operational_carbon / quebec.sustainability.operational_carbon
    assert ratio.m_as("") == pytest.approx(POLAND_G_PER_KWH / QUEBEC_G_PER_KWH, rel=1e-12)
    assert poland.sustainability.energy_kwh == quebec.sustainability.energy_kwh


def test_datacenter_grid_ratio_holds_for_the_operational_part_only():
    sim = ResourceSimulation(mlsysim.Applications.GPT4, Personas.CloudTitan)
    quebec, poland = sim.evaluate({"region": "Quebec"}), sim.evaluate({"region": "Poland"})
    ratio = (
        poland.sustainability.operational_carbon_kg / quebec.sustainability.operational_carbon_kg
    )
    assert ratio == pytest.approx(662 / 23, rel=1e-12)
    total_ratio = poland.sustainability.carbon_kg / quebec.sustainability.carbon_kg
    assert total_ratio < ratio  # embodied carbon does not depend on the grid
    assert poland.sustainability.embodied_carbon == quebec.sustainability.embodied_carbon


@pytest.mark.parametrize("index", range(len(doc_examples())))
def test_docs_labs_examples_print_their_documented_output(index):
    code, expected = doc_examples()[index]
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(code, f"docs/labs.md example {index}", "exec"), {"__name__": "__labs__"})
    assert printed.getvalue() == expected


def test_docs_hold_the_verbatim_snippet_and_the_ta_example():
    blocks = [code for code, _ in doc_examples()]
    assert blocks[0] == SNIPPET
    ta = next(code for code in blocks if "class BatteryLifeSimulation(BaseSimulation)" in code)
    assert 25 <= len(ta.strip().splitlines()) <= 40


def test_every_labelled_assumption_is_documented_with_its_value():
    from mlsysim.sim.assumptions import _table

    text = LABS_DOC.read_text(encoding="utf-8")

    def leaves(node, path=()):
        if isinstance(node, dict) and "value" in node:
            yield ".".join(path), node["value"], node["note"]
        elif isinstance(node, dict):
            for key, child in node.items():
                yield from leaves(child, (*path, key))

    entries = [leaf for key in ("hardware", "training") for leaf in leaves(_table()[key], (key,))]
    assert len(entries) == 9
    for key, value, note in entries:
        assert f"| `{key}` | {value} |" in text, key
        assert note  # every entry says why
