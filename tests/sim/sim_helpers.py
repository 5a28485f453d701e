"""Shared by the sim tests: docs/labs.md example blocks, the doorbell hand calculation from raw
catalog numbers, and a test-only scenario on a part with gaps in its catalog entry."""

from __future__ import annotations

import re
from pathlib import Path

LABS_DOC = Path(__file__).resolve().parents[2] / "docs" / "labs.md"
_PAIR = re.compile(r"```python\n(?P<code>.*?)```\n```\n(?P<output>.*?)```", re.DOTALL)


def doc_examples() -> list[tuple[str, str]]:
    """Every fenced python block of docs/labs.md with the plain block printed right after it."""
    text = LABS_DOC.read_text(encoding="utf-8")
    return [(m["code"], m["output"]) for m in _PAIR.finditer(text)]


# Raw inputs, typed from the YAML catalogs / calibration / scenario / sim assumptions
# (docs/labs.md, "The hand calculation behind it"). test_raw_inputs_match_the_catalogs pins them.
VWW_MACS = 7.5e6  # models.yaml VWW flops_per_sample 7.5 MMAC
ESP32_INT8_PEAK = 15.36e9  # hardware.yaml ESP32_S3 peak_flops.int8, flop/s
ESP32_COMPUTE_EFF = 0.018  # hardware.yaml ESP32_S3 compute_efficiency (ESP-NN, measured)
TINY_OVERHEAD_S = 100e-6  # engine calibration "tiny"
ESP32_TDP_W = 0.239  # hardware.yaml ESP32_S3 active_power: one core busy, radio off
ESP32_SLEEP_W = 24.75e-6
INFERENCES_PER_DAY = 5_000
FLEET = 10_000_000
RADIO_EVENTS, RADIO_AIRTIME_S, RADIO_W = 500, 1.0, 1.17  # scenarios.yaml Doorbell radio_*
QUEBEC_G_PER_KWH, POLAND_G_PER_KWH = 23.0, 662.0
DAYS = 365


def hand_latency_s() -> float:
    """One doorbell inference: 15.0 MFLOP / (15.36 GFLOP/s x 0.018) + 100 us = 54.353 ms."""
    return 2 * VWW_MACS / (ESP32_INT8_PEAK * ESP32_COMPUTE_EFF) + TINY_OVERHEAD_S


def hand_energy_kwh(days: float = DAYS, radio: bool = True) -> float:
    """Fleet energy over ``days`` with nothing but arithmetic on the raw inputs."""
    duty = INFERENCES_PER_DAY * hand_latency_s() / 86_400
    average_w = duty * ESP32_TDP_W + (1 - duty) * ESP32_SLEEP_W
    joules = average_w * days * 86_400
    if radio:
        joules += RADIO_EVENTS * RADIO_AIRTIME_S * RADIO_W * days
    return joules * FLEET / 3.6e6


def thermostat():
    """Test-only scenario: an STM32F4 fleet (no sourced mttf or unit_cost, no assumption)."""
    import mlsysim

    return mlsysim.Scenario(
        name="Thermostat",
        description="test only: an STM32F4 fleet",
        model_name="KWS",
        hardware_name="STM32F4",
        deployment="tiny",
        precision="int8",
        fleet_size=1000,
        inferences_per_day=100,
    )
