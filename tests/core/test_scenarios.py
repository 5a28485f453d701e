"""Scenarios and the Applications: every one evaluates; margins and reasons are right."""

from __future__ import annotations

import dataclasses

import pytest

import mlsysim
from mlsysim.core.scenarios import Applications, Scenario
from mlsysim.core.units import Q_
from mlsysim.errors import UnknownNameError

REQUIRED = ("Doorbell", "AV", "GPT4", "KWS", "Smartphone", "Chatbot")


def test_public_name_is_the_same_object():
    assert mlsysim.Applications is Applications
    assert mlsysim.Scenario is Scenario


@pytest.mark.parametrize("name", REQUIRED)
def test_each_application_evaluates(name):
    scenario = Applications[name]
    result = scenario.evaluate()
    assert result.scenario == name
    assert result.constraints, name
    assert result.feasible == all(check.ok for check in result.constraints)
    assert result.summary().startswith(f"{name}: ")
    assert scenario.deployment in ("datacenter", "edge", "mobile", "tiny")


@pytest.mark.parametrize("name", REQUIRED)
def test_every_parameter_is_sourced_or_labelled(name):
    scenario = Applications[name]
    assert scenario.sources
    for key, source in scenario.sources.items():
        assert source.title and source.date, (name, key)
        if source.is_assumption:
            assert source.note, (name, key)


def test_attributes_the_simulations_read():
    door = Applications.Doorbell
    assert door.model.name == "VWW" and door.hardware.name == "ESP32_S3"
    assert door.deployment == "tiny" and door.fleet_size == 10_000_000
    assert door.inferences_per_day == 5_000
    assert door.latency_slo == Q_(200, "ms") and door.power_budget == Q_(1.5, "W")
    latency = 15.0e6 / (15.36e9 * 0.018) + 100e-6  # VWW on the ESP32-S3 at its measured 1.8%
    assert door.profile().latency_s == pytest.approx(latency)  # 54.35 ms
    assert door.duty_cycle == pytest.approx(5_000 * latency / 86_400)
    assert Applications.GPT4.duty_cycle == 1.0
    assert Applications.GPT4.deployment == "datacenter"


def test_doorbell_margins_and_battery_life_by_hand():
    door = Applications.Doorbell
    result = door.evaluate()
    checks = {check.name: check for check in result.constraints}
    latency = 15.0e6 / (15.36e9 * 0.018) + 100e-6  # VWW on the ESP32-S3 at its measured 1.8%
    assert door.profile().latency_s == pytest.approx(latency)  # 54.35 ms
    assert checks["latency"].margin.m_as("s") == pytest.approx(0.200 - latency)
    assert checks["latency"].margin_fraction == pytest.approx((0.200 - latency) / 0.200)
    duty = 5_000 * latency / 86_400
    assert checks["duty_cycle"].reason == "busy fraction of the day 0.315 % <= 100 % (+100% margin)"
    average_w = 0.239 * duty + 24.75e-6 * (1 - duty)  # ESP32-S3 busy (radio off) and deep sleep
    radio_w = 500 * 1.0 * 1.17 / 86_400  # 500 Wi-Fi notifications a day, 1 s each at 1.17 W
    life_days = 7.4 / (average_w + radio_w) / 24
    assert checks["battery_life"].achieved.m_as("day") == pytest.approx(life_days)
    assert life_days == pytest.approx(40.854, rel=1e-4)  # 7.4 Wh / (0.776 + 6.771) mW
    assert checks["battery_life"].reason == (
        "battery life (compute + sleep + radio) 40.9 d < 365 d (-89% margin)"
    )
    assert result.feasible is False and [c.name for c in result.violations] == ["battery_life"]
    # the power budget is checked against the device's peak draw: Wi-Fi transmit (355 mA x
    # 3.3 V = 1.17 W, the whole chip) beats inference on one core (0.239 W)
    assert door.peak_power == Q_(1.17, "W")
    assert checks["power"].margin_fraction == pytest.approx((1.5 - 1.17) / 1.5)
    assert checks["power"].reason == "peak power (radio TX) 1.17 W <= 1.5 W (+22% margin)"


def test_without_a_radio_the_peak_power_is_what_inference_draws():
    quiet = dataclasses.replace(
        Applications.Doorbell, radio_events_per_day=None, radio_airtime=None, radio_power=None
    )
    assert quiet.peak_power == Q_(0.239, "W")  # ESP32-S3 busy_power: one core, radio off
    checks = {c.name: c for c in quiet.evaluate().constraints}
    assert checks["power"].reason == "peak power (inference) 0.239 W <= 1.5 W (+84% margin)"
    av = {c.name: c for c in Applications.AV.evaluate().constraints}  # no active_power: TDP
    assert av["power"].reason == "peak power (inference) 60 W <= 60 W (+0% margin)"


def test_av_meets_the_30fps_deadline():
    checks = {c.name: c for c in Applications.AV.evaluate().constraints}
    assert checks["latency"].limit.m_as("ms") == pytest.approx(1000 / 30)
    assert checks["latency"].ok


def test_gpt4_evaluates_training_and_serving():
    result = Applications.GPT4.evaluate()
    names = [check.name for check in result.constraints]
    assert names == [
        "memory",
        "time_to_train",
        "power",
        "serving memory",
        "serving ttft",
        "serving tpot",
    ]
    assert result.serving_profile is not None and result.serving_profile.tensor_parallel == 8
    assert Applications.GPT4.sources["model"].is_assumption


def test_infeasible_scenario_reports_the_violation():
    scenario = Scenario(
        name="TooBig",
        description="70B in fp16 on one A100",
        model_name="Llama2_70B",
        hardware_name="A100",
        deployment="datacenter",
        latency_slo=Q_(1, "s"),
    )
    result = scenario.evaluate()
    assert result.feasible is False
    (violation,) = result.violations
    assert violation.name == "memory"
    # 68.98e9 params x 2 B = 137.96 GB of weights, plus the KV cache its full-context decode step
    # reads: 2 x 80 layers x 8 KV heads x 128 x 4,096 tokens x 2 B = 1.342 GB; 80 - 139.30 GB
    assert violation.margin.m_as("GB") == pytest.approx(80 - 137.96 - 1.342177, abs=1e-3)
    assert violation.reason == "weights+KV 139 GB > 80 GB (-74% margin)"


def test_unknown_application_suggests_names():
    with pytest.raises(UnknownNameError, match="Did you mean 'Doorbell'"):
        Applications["Doorbel"]
    assert "Chatbot" in Applications and set(REQUIRED) <= set(Applications.names())


def test_bad_deployment_is_named():
    with pytest.raises(ValueError, match="argument 'deployment' must be one of datacenter, edge"):
        Scenario(
            name="x", description="", model_name="VWW", hardware_name="ESP32_S3", deployment="space"
        )


# ----------------------------------------------------------------- scenarios.yaml validation
SCENARIOS_OK = """\
reviewed: 2026-11-28
sources:
  rules: {title: Toy rules, url: https://example.org/rules, date: 2024}
entries:
  Toy:
    description: a toy
    model: VWW
    hardware: ESP32_S3
    deployment: tiny
    precision: int8
    latency_slo: {value: 200 ms, source: rules}
    fleet_size: {value: 12, source: assumption, note: a dozen}
"""


def load_scenarios(tmp_path, text: str):
    from mlsysim.core.scenarios import _build_applications

    path = tmp_path / "scenarios.yaml"
    path.write_text(text)
    return _build_applications(path)


def test_a_valid_scenario_file_loads_with_its_sources(tmp_path, monkeypatch):
    monkeypatch.setenv("MLSYSIM_CACHE_DIR", str(tmp_path / "cache"))
    toy = load_scenarios(tmp_path, SCENARIOS_OK)["Toy"]
    assert toy.latency_slo == Q_(200, "ms") and toy.fleet_size == 12
    assert toy.sources["latency_slo"].title == "Toy rules"
    assert toy.sources["fleet_size"].is_assumption and toy.sources["fleet_size"].note == "a dozen"


@pytest.mark.parametrize(
    ("broken", "field", "why"),
    [
        (SCENARIOS_OK.replace(", source: rules}", "}"), "latency_slo", "no source"),
        (SCENARIOS_OK.replace("200 ms", "200 W"), "latency_slo", "wrong unit 'W'"),
        (SCENARIOS_OK.replace("value: 12,", "value: 12.5,"), "fleet_size", "whole number"),
        (SCENARIOS_OK + "    colour: red\n", "colour", "unknown field"),
        (SCENARIOS_OK + "    serving: Nope\n", "serving", "'Nope' is not another scenario"),
        (SCENARIOS_OK.replace("    hardware: ESP32_S3\n", ""), "hardware", "missing required"),
        (  # a network for the data-parallel ring must be a bandwidth
            SCENARIOS_OK + "    parallelism: {data: 2, network_bandwidth: 50 GB, source: rules}\n",
            "parallelism.network_bandwidth",
            "wrong unit 'GB': expected units of byte/s",
        ),
        (
            SCENARIOS_OK
            + "    parallelism: {data: 2, network_bandwidth: -5 GB/s, source: rules}\n",
            "parallelism.network_bandwidth",
            "must be > 0, got '-5 GB/s'",
        ),
    ],
)
def test_a_broken_scenario_file_names_entry_and_field(tmp_path, monkeypatch, broken, field, why):
    from mlsysim.errors import CatalogError

    monkeypatch.setenv("MLSYSIM_CACHE_DIR", str(tmp_path / "cache"))
    with pytest.raises(CatalogError) as err:
        load_scenarios(tmp_path, broken)
    assert f"entry 'Toy', field '{field}'" in str(err.value) and why in str(err.value)


def test_every_application_number_is_sourced_or_an_assumption():
    numeric = ("batch_size", "fleet_size", "prompt_tokens", "output_tokens", "tensor_parallel",
               "latency_slo", "tpot_slo", "throughput_target", "power_budget", "energy_budget",
               "battery_capacity", "battery_life_target", "inferences_per_day",
               "training_tokens", "training_deadline")  # fmt: skip
    defaults = Scenario(
        name="d", description="", model_name="VWW", hardware_name="ESP32_S3", deployment="tiny"
    )
    for scenario in Applications:
        for key in numeric:
            if getattr(scenario, key) != getattr(defaults, key):
                assert key in scenario.sources, (scenario.name, key)


def test_the_gpt4_gradient_ring_crosses_the_network_between_servers():
    # Llama 3 405B, TP 8 x PP 16: each device holds 405.85e9 / 128 params x 2 B = 6.34 GB; the
    # 128 data-parallel replicas sit in different 8-GPU servers, so the ring runs over the 50 GB/s
    # RoCE NIC at NCCL's 2.7 us network step (Dubey et al. 2024, Sec. 3.3)
    shard_b = 405.85e9 / (8 * 16) * 2
    expected = 2 * 127 * 2.7e-6 + 2 * 127 / 128 * shard_b / 50e9
    assert expected == pytest.approx(0.25236, rel=1e-4)
    assert Applications.GPT4.profile().communication_time_s == pytest.approx(expected)


RADIO_MISTAKES = [
    ("radio_events_per_day", -500, "must be finite and >= 0, got -500"),
    ("radio_events_per_day", float("nan"), "must be finite and >= 0, got nan"),
    ("radio_power", 1.17, "must be a Quantity in W, got 1.17"),
    ("radio_airtime", Q_(1, "W"), "must be a Quantity in s, got <Quantity(1, 'watt')>"),
]


@pytest.mark.parametrize(("field", "value", "message"), RADIO_MISTAKES)
def test_a_radio_set_from_python_is_checked_like_the_yaml(field, value, message):
    import dataclasses

    with pytest.raises(ValueError) as err:
        dataclasses.replace(Applications.Doorbell, **{field: value})
    assert str(err.value) == f"argument '{field}' {message}"
    with pytest.raises(ValueError, match="a radio needs all of 'radio_events_per_day', 'radio_air"):
        dataclasses.replace(Applications.Doorbell, radio_power=None)
