"""Microcontroller calibration: the engine reproduces published MLPerf Tiny and ESP-NN latencies.

The peaks are the catalog's (clock x int8 MACs/cycle x 2); the fractions of peak that real
kernels reach differ by core, so the tiny default (Cortex-M4) can be replaced by a part's own
measured ``compute_efficiency``.
"""

from __future__ import annotations

import dataclasses

import pytest

from mlsysim import Q_, Hardware
from mlsysim.core.catalog_loader import PrecisionTable
from mlsysim.core.engine import DEFAULT_EFFICIENCY, Efficiency, Engine, default_efficiency

KWS_FLOPS = 2 * 2.7e6  # DS-CNN, 2.7 M MAC (models.yaml)
VWW_FLOPS = 2 * 7.5e6  # MobileNetV1-0.25 96x96, 7.5 M MAC
OVERHEAD_S = 100e-6  # tiny category, per invoke()

# MLPerf Tiny v1.0 closed, STMicroelectronics X-CUBE-AI, median throughput (inf/s), 2022-04:
# github.com/mlcommons/tiny_results_v1.0/tree/main/closed/STMicroelectronics/results
L4R5ZI_MEASURED_S = {"KWS": 1 / 13.323, "VWW": 1 / 4.339}  # Cortex-M4, 120 MHz
H7A3ZI_MEASURED_S = {"KWS": 1 / 59.667, "VWW": 1 / 19.722}  # Cortex-M7, 280 MHz
# espressif/esp-tflite-micro README: person detection invoke() with ESP-NN, 240 MHz
ESP32_S3_PERSON_DETECTION_S = 54e-3


def clocked_at(part: str, mhz: float):
    """A what-if copy of ``part`` at another clock: int8 peak = MHz x 2 MAC/cycle x 2."""
    spec = Hardware[part]
    peak = PrecisionTable(spec.name, {"int8": Q_(mhz * 1e6 * 2 * 2, "flop/s")})
    return dataclasses.replace(spec, name=f"{part}@{mhz:g}MHz", peak_flops=peak)


@pytest.mark.parametrize(("model", "measured"), L4R5ZI_MEASURED_S.items())
def test_the_tiny_default_reproduces_a_cortex_m4_within_10_percent(model, measured):
    m4 = clocked_at("STM32F4", 120)  # the F407 is a Cortex-M4 too, with no measurement of its own
    predicted = Engine.solve(model, m4, precision="int8").latency_s
    assert predicted == pytest.approx(measured, rel=0.10)


@pytest.mark.parametrize(("model", "measured"), H7A3ZI_MEASURED_S.items())
def test_the_cortex_m7_calibration_reproduces_the_stm32h7a3_within_10_percent(model, measured):
    m7 = clocked_at("STM32H7", 280)  # keeps the STM32H7's measured compute_efficiency
    predicted = Engine.solve(model, m7, precision="int8").latency_s
    assert predicted == pytest.approx(measured, rel=0.10)


def test_the_esp32_s3_reproduces_esp_nn_person_detection_within_5_percent():
    predicted = Engine.solve("VWW", "ESP32_S3", precision="int8").latency_s
    assert predicted == pytest.approx(ESP32_S3_PERSON_DETECTION_S, rel=0.05)
    # by hand: 15.0 MFLOP / (15.36 GFLOP/s x 0.018) + 0.1 ms = 54.35 ms
    assert predicted == pytest.approx(VWW_FLOPS / (15.36e9 * 0.018) + OVERHEAD_S)


def test_kws_on_the_stm32f4_by_hand():
    # 5.4 MFLOP / (168 MHz x 2 MAC x 2 = 0.672 GFLOP/s x 0.14) + 0.1 ms = 57.50 ms
    profile = Engine.solve("KWS", "STM32F4", precision="int8")
    assert profile.latency.m_as("ms") == pytest.approx(57.498, rel=1e-4)
    assert profile.bottleneck == "compute"
    assert profile.compute_efficiency == DEFAULT_EFFICIENCY["tiny"].compute == 0.14


def test_a_parts_own_fraction_replaces_only_the_compute_fraction():
    profile = Engine.solve("VWW", "STM32H7", precision="int8")
    assert profile.compute_efficiency == 0.28
    assert profile.memory_efficiency == DEFAULT_EFFICIENCY["tiny"].memory
    assert profile.overhead_s == DEFAULT_EFFICIENCY["tiny"].overhead_s


def test_an_explicit_efficiency_still_wins_over_the_parts_calibration():
    pure = Engine.solve("VWW", "ESP32_S3", precision="int8", efficiency=Efficiency(1, 1, 0))
    assert pure.latency_s == pytest.approx(VWW_FLOPS / 15.36e9)  # 0.977 ms: 56x too fast
    halved = Engine.solve("VWW", "ESP32_S3", precision="int8", efficiency=0.5)
    assert halved.compute_efficiency == 0.5
    assert halved.overhead_s == OVERHEAD_S


def test_a_sweep_uses_each_parts_own_calibration():
    table = Engine.sweep(models="VWW", hardware=["ESP32_S3", "STM32H7"], precisions="int8")
    solved = [Engine.solve("VWW", part, precision="int8").latency_s for part in table["hardware"]]
    assert list(table["latency_s"]) == pytest.approx(solved)


def test_default_efficiency_names_the_parts_own_source():
    esp = default_efficiency("ESP32_S3")
    assert (esp.compute, esp.memory, esp.overhead_s) == (0.018, 0.50, 100e-6)
    assert esp.source.startswith("compute: ESP32_S3 compute_efficiency (espressif/esp-tflite-micro")
    assert esp.source.endswith("memory fraction and overhead: the tiny category default")
    assert default_efficiency(Hardware.STM32F4) is DEFAULT_EFFICIENCY["tiny"]


def test_inference_energy_charges_the_busy_power_not_the_flat_out_tdp():
    # ESP32-S3: one core busy, as TFLite Micro runs (72.4 mA x 3.3 V = 0.239 W), not both cores
    # (91.7 mA x 3.3 V = 0.303 W): 0.239 W x 54.35 ms = 12.99 mJ
    profile = Engine.solve("VWW", "ESP32_S3", precision="int8")
    assert profile.energy.m_as("mJ") == pytest.approx(0.239 * 54.35347, rel=1e-6)
    assert Hardware.ESP32_S3.tdp.m_as("W") == 0.303  # 91.7 mA x 3.3 V, 3 significant digits


def test_explain_prints_a_small_efficiency_with_two_significant_digits():
    sentence = Engine.solve("VWW", "ESP32_S3", precision="int8").explain()
    assert sentence.startswith(
        "compute-bound: 15 MFLOP at 276 MFLOP/s achieved (1.8% of 15.4 GFLOP/s int8) take 54.3 ms;"
    )
    from mlsysim.core.engine.profiles import percent

    assert [percent(f) for f in (1.0, 0.55, 0.14, 0.018, 0.005)] == [
        "100%", "55%", "14%", "1.8%", "0.5%",
    ]  # fmt: skip


def test_a_what_if_efficiency_is_labelled_user_set_not_cited_to_the_catalog():
    faster = dataclasses.replace(Hardware.ESP32_S3, compute_efficiency=Q_(5, "percent"))
    efficiency = default_efficiency(faster)
    assert efficiency.compute == pytest.approx(0.05)
    assert efficiency.source == (
        "compute: ESP32_S3 compute_efficiency (user-set on a what-if copy of ESP32_S3); "
        "memory fraction and overhead: the tiny category default"
    )
    copy = dataclasses.replace(Hardware.ESP32_S3, tdp=Q_(0.3, "W"))  # efficiency untouched
    assert "espressif/esp-tflite-micro README" in default_efficiency(copy).source


def test_a_plain_float_efficiency_works_and_an_impossible_one_names_the_part():
    plain = dataclasses.replace(Hardware.STM32F4, compute_efficiency=0.2)
    assert Engine.solve("KWS", plain, precision="int8").compute_efficiency == 0.2
    broken = dataclasses.replace(Hardware.STM32F4, compute_efficiency=1.5)
    with pytest.raises(ValueError) as err:
        Engine.solve("KWS", broken, precision="int8")
    assert str(err.value) == (
        "hardware 'STM32F4': compute_efficiency must be a fraction of peak in (0, 1], got 1.5"
    )
