"""Scenarios and the Applications: every one evaluates; margins and reasons are right."""

from __future__ import annotations

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
    latency = door.profile().latency_s
    assert door.duty_cycle == pytest.approx(5_000 * latency / 86_400)
    assert Applications.GPT4.duty_cycle == 1.0
    assert Applications.GPT4.deployment == "datacenter"


def test_doorbell_margins_and_battery_life_by_hand():
    door = Applications.Doorbell
    result = door.evaluate()
    checks = {check.name: check for check in result.constraints}
    latency = door.profile().latency_s
    assert checks["latency"].margin.m_as("s") == pytest.approx(0.200 - latency)
    assert checks["latency"].margin_fraction == pytest.approx((0.200 - latency) / 0.200)
    duty = 5_000 * latency / 86_400
    average_w = 1.17 * duty + 24.75e-6 * (1 - duty)  # ESP32-S3 active TDP and deep sleep
    life_days = 7.4 / average_w / 24
    assert checks["battery_life"].achieved.m_as("day") == pytest.approx(life_days)
    assert checks["battery_life"].ok is True
    assert checks["power"].reason == "active power (TDP) 1.17 W <= 1.5 W (+22% margin)"


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
    assert violation.margin.m_as("GB") == pytest.approx(-57.96)
    assert violation.reason == "weights 138 GB > 80 GB (-72% margin)"


def test_unknown_application_suggests_names():
    with pytest.raises(UnknownNameError, match="Did you mean 'Doorbell'"):
        Applications["Doorbel"]
    assert "Chatbot" in Applications and set(REQUIRED) <= set(Applications.names())


def test_bad_deployment_is_named():
    with pytest.raises(ValueError, match="argument 'deployment' must be one of datacenter, edge"):
        Scenario(
            name="x", description="", model_name="VWW", hardware_name="ESP32_S3", deployment="space"
        )
